import type { Operator } from './operator-store.js';
import { OPERATOR_COLUMNS, toOperator } from './operator-store.js';
import type { SqlDriver } from './sql-driver.js';

/** An API token as operators see it: never the token, only its name and dates. */
export interface ApiToken {
  id: string;
  name: string;
  createdAt: number;
  /** Null: it does not expire (a `channel` system's, by choice, or one from before expiries). */
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** A use is written at most this often per token, so a busy script does not write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Operators' API tokens (migration 11): several per operator, each named, with an expiry, the
 * time it was last used, and a revocation. Only the SHA-256 of a token is stored.
 */
export class ApiTokenStore {
  constructor(private readonly sql: SqlDriver) {}

  /**
   * The enabled operator holding this live token (by hash), noting its use at `now`.
   * Undefined when the token is unknown, revoked or expired.
   */
  async operatorOf(hash: string, now: number): Promise<Operator | undefined> {
    const [r] = await this.sql.all(
      `SELECT ${OPERATOR_COLUMNS}, t.id AS token_id, t.last_used_at FROM api_tokens t
       JOIN operators o ON o.id = t.operator_id
       WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)
         AND o.disabled_at IS NULL`,
      [hash, now],
    );
    if (!r) return undefined;
    if (r.last_used_at == null || Number(r.last_used_at) < now - LAST_USED_RESOLUTION_MS)
      await this.sql.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [now, r.token_id]);
    return toOperator(r);
  }

  async issue(t: {
    id: string;
    operatorId: string;
    name: string;
    tokenHash: string;
    createdAt: number;
    expiresAt: number | null;
  }): Promise<void> {
    await this.sql.run(
      'INSERT INTO api_tokens (id, operator_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      [t.id, t.operatorId, t.name, t.tokenHash, t.createdAt, t.expiresAt],
    );
  }

  /** An operator's tokens, oldest first, revoked and expired ones included. */
  async list(operatorId: string): Promise<ApiToken[]> {
    const rows = await this.sql.all(
      `SELECT id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens
       WHERE operator_id = ? ORDER BY created_at, id`,
      [operatorId],
    );
    const n = (v: unknown) => (v == null ? null : Number(v));
    return rows.map((r) => ({
      id: String(r.id),
      name: String(r.name),
      createdAt: Number(r.created_at),
      expiresAt: n(r.expires_at),
      lastUsedAt: n(r.last_used_at),
      revokedAt: n(r.revoked_at),
    }));
  }

  /** Revokes one of the operator's tokens. @returns false when there is no such live token. */
  async revoke(operatorId: string, id: string, at: number): Promise<boolean> {
    const changed = await this.sql.run(
      'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND operator_id = ? AND revoked_at IS NULL',
      [at, id, operatorId],
    );
    return changed > 0;
  }
}
