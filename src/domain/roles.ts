/**
 * viewer < analyst < admin, each allowed what the one before is; `channel` stands apart: the
 * bank's app or messaging system, whose API token only posts cardholders' answers.
 */
export const ROLES = ['viewer', 'analyst', 'admin', 'channel'] as const;
export type Role = (typeof ROLES)[number];
