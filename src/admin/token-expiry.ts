import type { Role } from '../domain/roles.js';

/** An API token's life when none is asked for (PCI DSS 8.3.9: static credentials change). */
export const DEFAULT_TOKEN_DAYS = 90;
/** The longest life a token may be given, but a `channel` system's. */
export const MAX_TOKEN_DAYS = 365;

/**
 * When a token issued at `now` for an operator of `role` expires: after `days` (default 90, at
 * most 365), or never (null) for a `channel` operator's, which is a system's credential and
 * long-lived by choice (`never`; by default too).
 * @returns an error message when `days` is not allowed.
 */
export function tokenExpiry(
  role: Role,
  days: number | 'never' | undefined,
  now: number,
): number | null | string {
  if (role === 'channel' && (days === undefined || days === 'never')) return null;
  if (days === 'never') return "only a channel operator's token may never expire";
  const d = days ?? DEFAULT_TOKEN_DAYS;
  if (!Number.isInteger(d) || d < 1 || d > MAX_TOKEN_DAYS)
    return `a token lives 1 to ${MAX_TOKEN_DAYS} days`;
  return now + d * 86_400_000;
}

/** `90d` or `never`, as the CLI's `--expires` takes it. */
export function parseExpiresFlag(v: string | undefined): number | 'never' | undefined {
  if (v === undefined || v === 'never') return v;
  const m = /^([0-9]{1,4})d$/.exec(v);
  return m ? Number(m[1]) : Number.NaN;
}
