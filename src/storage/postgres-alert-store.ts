import type pg from 'pg';
import { StorageError } from '../errors.js';
import { ALERT_ROW_COLUMNS, CLAIMED_COLUMNS, toAlertRow, toClaimed } from './risk-row-mapping.js';
import type { AlertRow, AlertStore, ClaimedAlert } from './risk-store.js';

/**
 * The alert outbox on PostgreSQL: several senders share it; `FOR UPDATE SKIP LOCKED` hands each
 * due row to one of them, and the lease returns it if that sender dies.
 */
export class PostgresAlertStore implements AlertStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async claim(now: number, limit: number, leaseMs: number): Promise<ClaimedAlert[]> {
    const rows = await this.#query(
      `UPDATE risk_alerts SET lease_until = $1, attempts = attempts + 1
       WHERE id IN (SELECT id FROM risk_alerts WHERE status = 'pending' AND next_attempt_at <= $2
                    AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING ${CLAIMED_COLUMNS}`,
      [now + leaseMs, now, limit],
    );
    return rows.map(toClaimed);
  }

  async markSent(id: string, now: number): Promise<void> {
    await this.#query(
      `UPDATE risk_alerts SET status = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL,
       recipient_ciphertext = NULL, data_key_id = NULL WHERE id = $2`,
      [now, id],
    );
  }

  async markFailed(id: string, nextAttemptAt: number | null, code: string): Promise<void> {
    if (nextAttemptAt === null)
      await this.#query(
        `UPDATE risk_alerts SET status = 'dead', lease_until = NULL, last_error = $1 WHERE id = $2`,
        [code, id],
      );
    else
      await this.#query(
        'UPDATE risk_alerts SET next_attempt_at = $1, lease_until = NULL, last_error = $2 WHERE id = $3',
        [nextAttemptAt, code, id],
      );
  }

  async list(limit: number): Promise<AlertRow[]> {
    return (
      await this.#query(
        `SELECT ${ALERT_ROW_COLUMNS} FROM risk_alerts ORDER BY created_at DESC, id DESC LIMIT $1`,
        [limit],
      )
    ).map(toAlertRow);
  }

  async #query(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    try {
      return (await this.#pool.query<Record<string, unknown>>(sql, params)).rows;
    } catch (cause) {
      throw new StorageError('PostgreSQL alert outbox failed', { cause });
    }
  }
}
