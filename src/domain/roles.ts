/**
 * viewer < analyst < admin, each allowed what the one before is; `channel` stands apart: the
 * bank's app or messaging system, whose API token only posts cardholders' answers.
 */
export const ROLES = ['viewer', 'analyst', 'admin', 'channel'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Where an operator comes from: `local` signs in with a password here; `oidc` was made by the
 * bank's identity provider and signs in there.
 */
export const OPERATOR_SOURCES = ['local', 'oidc'] as const;
export type OperatorSource = (typeof OPERATOR_SOURCES)[number];
