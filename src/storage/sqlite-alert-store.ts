import type Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import { ALERT_ROW_COLUMNS, CLAIMED_COLUMNS, toAlertRow, toClaimed } from './risk-row-mapping.js';
import type { AlertRow, AlertStore, ClaimedAlert } from './risk-store.js';
import type { SqliteWrite } from './sqlite-risk-store.js';

const CLAIM = `UPDATE risk_alerts SET lease_until = ?, attempts = attempts + 1
  WHERE id IN (SELECT id FROM risk_alerts WHERE status = 'pending' AND next_attempt_at <= ?
               AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at LIMIT ?)
  RETURNING ${CLAIMED_COLUMNS}`;
const MARK_SENT = `UPDATE risk_alerts SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = NULL,
  recipient_ciphertext = NULL, data_key_id = NULL WHERE id = ?`;
const MARK_DEAD = `UPDATE risk_alerts SET status = 'dead', lease_until = NULL, last_error = ? WHERE id = ?`;
const MARK_RETRY =
  'UPDATE risk_alerts SET next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?';

/**
 * The alert outbox on SQLite: claims are one UPDATE under SQLite's write lock. Writes go through
 * `write`: `SqliteStore.openRiskStores` gives the notification store's group commit, as a
 * non-durable write like the assessments' (decision 0014): a claim, or an alert's outcome, lost
 * to a power cut only means the alert is sent again (its id is the same, receivers deduplicate).
 * On their own, each was a transaction with its own fsync, and waiting for another process's
 * write lock slept the event loop. Statements are prepared once: a sent alert runs two.
 */
export class SqliteAlertStore implements AlertStore {
  readonly #db: Database.Database;
  readonly #write: SqliteWrite;
  readonly #stmts = new Map<string, Database.Statement>();

  constructor(db: Database.Database, write?: SqliteWrite) {
    this.#db = db;
    this.#write = write ?? (async (run) => this.#db.transaction(run).immediate());
  }

  #stmt(sql: string): Database.Statement {
    let st = this.#stmts.get(sql);
    if (st === undefined) {
      st = this.#db.prepare(sql);
      this.#stmts.set(sql, st);
    }
    return st;
  }

  async claim(now: number, limit: number, leaseMs: number): Promise<ClaimedAlert[]> {
    const rows = await this.#run(
      () => this.#stmt(CLAIM).all(now + leaseMs, now, now, limit) as Record<string, unknown>[],
    );
    return rows.map(toClaimed);
  }

  async markSent(id: string, now: number): Promise<void> {
    await this.#run(() => this.#stmt(MARK_SENT).run(now, id));
  }

  async markFailed(id: string, nextAttemptAt: number | null, code: string): Promise<void> {
    await this.#run(() =>
      nextAttemptAt === null
        ? this.#stmt(MARK_DEAD).run(code, id)
        : this.#stmt(MARK_RETRY).run(nextAttemptAt, code, id),
    );
  }

  async list(limit: number): Promise<AlertRow[]> {
    return this.#read(() =>
      (
        this.#db
          .prepare(
            `SELECT ${ALERT_ROW_COLUMNS} FROM risk_alerts ORDER BY created_at DESC, id DESC LIMIT ?`,
          )
          .all(limit) as Record<string, unknown>[]
      ).map(toAlertRow),
    );
  }

  /** A write, in the group commit. */
  async #run<T>(fn: () => T): Promise<T> {
    try {
      return await this.#write(fn);
    } catch (cause) {
      throw new StorageError('SQLite alert outbox failed', { cause });
    }
  }

  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw new StorageError('SQLite alert outbox failed', { cause });
    }
  }
}
