import type Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import { ALERT_ROW_COLUMNS, CLAIMED_COLUMNS, toAlertRow, toClaimed } from './risk-row-mapping.js';
import type { AlertRow, AlertStore, ClaimedAlert } from './risk-store.js';

/** The alert outbox on SQLite: claims are one UPDATE under SQLite's write lock. */
export class SqliteAlertStore implements AlertStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async claim(now: number, limit: number, leaseMs: number): Promise<ClaimedAlert[]> {
    return this.#run(() =>
      (
        this.#db
          .prepare(
            `UPDATE risk_alerts SET lease_until = ?, attempts = attempts + 1
             WHERE id IN (SELECT id FROM risk_alerts WHERE status = 'pending' AND next_attempt_at <= ?
                          AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at LIMIT ?)
             RETURNING ${CLAIMED_COLUMNS}`,
          )
          .all(now + leaseMs, now, now, limit) as Record<string, unknown>[]
      ).map(toClaimed),
    );
  }

  async markSent(id: string, now: number): Promise<void> {
    this.#run(() =>
      this.#db
        .prepare(
          `UPDATE risk_alerts SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = NULL,
           recipient_ciphertext = NULL, data_key_id = NULL WHERE id = ?`,
        )
        .run(now, id),
    );
  }

  async markFailed(id: string, nextAttemptAt: number | null, code: string): Promise<void> {
    this.#run(() =>
      nextAttemptAt === null
        ? this.#db
            .prepare(
              `UPDATE risk_alerts SET status = 'dead', lease_until = NULL, last_error = ? WHERE id = ?`,
            )
            .run(code, id)
        : this.#db
            .prepare(
              'UPDATE risk_alerts SET next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?',
            )
            .run(nextAttemptAt, code, id),
    );
  }

  async list(limit: number): Promise<AlertRow[]> {
    return this.#run(() =>
      (
        this.#db
          .prepare(
            `SELECT ${ALERT_ROW_COLUMNS} FROM risk_alerts ORDER BY created_at DESC, id DESC LIMIT ?`,
          )
          .all(limit) as Record<string, unknown>[]
      ).map(toAlertRow),
    );
  }

  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw new StorageError('SQLite alert outbox failed', { cause });
    }
  }
}
