import type { Static } from '@sinclair/typebox';
import type { OperatorItem } from '../api/api-schemas.js';
import type { IssuerScope } from '../domain/issuer-scope.js';
import type { Operator } from '../storage/operator-store.js';
import { iso } from './iso-time.js';

/**
 * The one public JSON of an operator (never a credential): `GET /api/operators` and `operators
 * list`.
 */
export function presentOperator(o: Operator): Static<typeof OperatorItem> {
  return {
    name: o.name,
    role: o.role,
    source: o.source,
    mfaEnrolled: o.mfaEnrolled,
    ...presentScope(o.scope),
    createdAt: iso(o.createdAt),
    disabledAt: iso(o.disabledAt),
    lastLoginAt: iso(o.lastLoginAt),
  };
}

/** An issuer scope in JSON: `allIssuers`, or the issuers listed. */
export function presentScope(scope: IssuerScope): { allIssuers: boolean; issuers: string[] } {
  return 'all' in scope
    ? { allIssuers: true, issuers: [] }
    : { allIssuers: false, issuers: [...scope.issuers] };
}
