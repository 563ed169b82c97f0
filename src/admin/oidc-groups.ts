import type { OidcConfig } from '../config/oidc-schema.js';
import { ALL_ISSUERS, type IssuerScope, onlyIssuers } from '../domain/issuer-scope.js';
import type { Role } from '../domain/roles.js';

const RANK = { viewer: 0, analyst: 1, admin: 2 } as const;
type ConsoleRole = keyof typeof RANK;

/**
 * What a user's groups give: their issuers (every issuer if a group says `allIssuers`), and the
 * one role every one of those issuers grants them. An operator has one role over all their
 * issuers, so a user who is admin at one issuer and viewer at another is a viewer at both:
 * never more at an issuer than a group grants there. Undefined when they are in no mapped
 * group: no access.
 */
export function mapGroups(
  groups: readonly string[],
  mappings: OidcConfig['groups'],
): { role: Role; scope: IssuerScope } | undefined {
  const matched = mappings.filter((m) => groups.includes(m.group));
  if (matched.length === 0) return undefined;
  const highest = (ms: typeof matched) =>
    ms.reduce<ConsoleRole | undefined>(
      (r, m) => (r === undefined || RANK[m.role] > RANK[r] ? m.role : r),
      undefined,
    );
  const everywhere = highest(matched.filter((m) => m.allIssuers === true));
  if (everywhere !== undefined) return { role: everywhere, scope: ALL_ISSUERS };
  const issuers = [...new Set(matched.flatMap((m) => m.issuers ?? []))];
  if (issuers.length === 0) return undefined;
  // Each issuer's role is the highest its groups grant; the operator's, the lowest of those.
  const role = issuers
    .map((id) => highest(matched.filter((m) => m.issuers?.includes(id)))!)
    .reduce((low, r) => (RANK[r] < RANK[low] ? r : low));
  return { role, scope: onlyIssuers(issuers) };
}

/** RFC 8176 methods that are a second factor or a phishing-resistant one. */
const MFA_AMR = new Set(['mfa', 'otp', 'hwk', 'swk']);

/** Whether the ID token's `amr` or `acr` shows a second factor. */
export function showsMfa(claims: { amr?: unknown; acr?: unknown }, acrValues: readonly string[]) {
  const amr = Array.isArray(claims.amr) ? claims.amr : [];
  if (amr.some((m) => typeof m === 'string' && MFA_AMR.has(m))) return true;
  return typeof claims.acr === 'string' && acrValues.includes(claims.acr);
}

/** The groups claim as a list (a provider may send one group as a string). */
export function groupsOf(claims: Record<string, unknown>, claim: string): string[] {
  const v = claims[claim];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : [];
}
