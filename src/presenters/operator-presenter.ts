import type { Static } from '@sinclair/typebox';
import type { OperatorItem } from '../api/api-schemas.js';
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
    createdAt: iso(o.createdAt),
    disabledAt: iso(o.disabledAt),
    lastLoginAt: iso(o.lastLoginAt),
  };
}
