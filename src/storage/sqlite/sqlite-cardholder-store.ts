import type Database from 'better-sqlite3';
import { StorageError } from '../../errors.js';
import { toCardholderRecord } from '../cardholder-row-mapping.js';
import type { CardholderRecord, CardholderStore } from '../cardholder-store.js';

/** The cardholder directory on the notification store's SQLite connection. */
export class SqliteCardholderStore implements CardholderStore {
  readonly #db: Database.Database;
  readonly #now: () => number;
  /** Prepared once: the risk assessment looks a card up per notification. */
  #byFingerprint: Database.Statement | undefined;

  constructor(db: Database.Database, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async upsert(
    records: readonly CardholderRecord[],
  ): Promise<{ inserted: number; updated: number }> {
    try {
      const exists = this.#db.prepare('SELECT 1 FROM cardholders WHERE fingerprint = ?');
      const upsert = this.#db.prepare(
        `INSERT INTO cardholders (fingerprint, status, language, data_key_id, contact_ciphertext, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (fingerprint) DO UPDATE SET status = excluded.status, language = excluded.language,
           data_key_id = excluded.data_key_id, contact_ciphertext = excluded.contact_ciphertext, updated_at = excluded.updated_at`,
      );
      const now = this.#now();
      return this.#db
        .transaction(() => {
          let inserted = 0;
          for (const r of records) {
            if (exists.get(r.fingerprint) === undefined) inserted++;
            upsert.run(
              r.fingerprint,
              r.status,
              r.language,
              r.dataKeyId,
              r.contactCiphertext,
              now,
              now,
            );
          }
          return { inserted, updated: records.length - inserted };
        })
        .immediate();
    } catch (cause) {
      throw new StorageError('SQLite cardholder write failed', { cause });
    }
  }

  async get(fingerprint: string): Promise<CardholderRecord | undefined> {
    const r = this.#read(() => {
      this.#byFingerprint ??= this.#db.prepare('SELECT * FROM cardholders WHERE fingerprint = ?');
      return this.#byFingerprint.get(fingerprint);
    }) as Record<string, unknown> | undefined;
    return r === undefined ? undefined : toCardholderRecord(r);
  }

  async count(): Promise<number> {
    return Number(
      (
        this.#read(() => this.#db.prepare('SELECT COUNT(*) AS n FROM cardholders').get()) as {
          n: number;
        }
      ).n,
    );
  }

  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw new StorageError('SQLite cardholder read failed', { cause });
    }
  }
}
