import type { OidcConfig } from '../config/oidc-schema.js';
import { ALL_ISSUERS, type IssuerScope, onlyIssuers } from '../domain/issuer-scope.js';
import type { Role } from '../domain/roles.js';

const RANK = { viewer: 0, analyst: 1, admin: 2 } as const;

/**
 * What a user's groups give: the highest role among the mapped groups they are in, over every
 * issuer of those groups (every issuer if one of them says `allIssuers`). Undefined when they
 * are in none: no access.
 */
export function mapGroups(
  groups: readonly string[],
  mappings: OidcConfig['groups'],
): { role: Role; scope: IssuerScope } | undefined {
  const matched = mappings.filter((m) => groups.includes(m.group));
  if (matched.length === 0) return undefined;
  const role = matched.reduce((r, m) => (RANK[m.role] > RANK[r] ? m.role : r), matched[0]!.role);
  const scope = matched.some((m) => m.allIssuers === true)
    ? ALL_ISSUERS
    : onlyIssuers(matched.flatMap((m) => m.issuers ?? []));
  return { role, scope };
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
