import type { Static } from '@sinclair/typebox';
import type { ApiTokenItem } from '../api/api-schemas.js';
import type { ApiToken } from '../storage/api-token-store.js';
import { iso } from './iso-time.js';

/**
 * The one public JSON of an API token (never the token): `GET /api/operators/{name}/tokens` and
 * `operators tokens`. `state` is `revoked`, `expired` (at `now`) or `live`.
 */
export function presentApiToken(t: ApiToken, now: number): Static<typeof ApiTokenItem> {
  return {
    id: t.id,
    name: t.name,
    createdAt: iso(t.createdAt),
    expiresAt: iso(t.expiresAt),
    lastUsedAt: iso(t.lastUsedAt),
    revokedAt: iso(t.revokedAt),
    state:
      t.revokedAt !== null
        ? 'revoked'
        : t.expiresAt !== null && t.expiresAt <= now
          ? 'expired'
          : 'live',
  };
}
