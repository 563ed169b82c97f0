import type pg from 'pg';
import { StorageError } from '../../errors.js';
import { toCardholderRecord } from '../cardholder-row-mapping.js';
import type { CardholderRecord, CardholderStore } from '../cardholder-store.js';
import { inTransaction } from './postgres-transaction.js';

/** The cardholder directory on the notification store's PostgreSQL pool. */
export class PostgresCardholderStore implements CardholderStore {
  readonly #pool: pg.Pool;
  readonly #now: () => number;

  constructor(pool: pg.Pool, now: () => number = Date.now) {
    this.#pool = pool;
    this.#now = now;
  }

  async upsert(
    records: readonly CardholderRecord[],
  ): Promise<{ inserted: number; updated: number }> {
    if (records.length === 0) return { inserted: 0, updated: 0 };
    const now = this.#now();
    return inTransaction(this.#pool, 'PostgreSQL cardholder write failed', async (client) => {
      // One statement per batch: unnest the columns. xmax = 0 only on a freshly inserted row.
      const res = await client.query<{ inserted: boolean }>(
        `INSERT INTO cardholders (fingerprint, status, language, data_key_id, contact_ciphertext, created_at, updated_at)
         SELECT f, s, l, k, c, $6, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[]) AS t (f, s, l, k, c)
         ON CONFLICT (fingerprint) DO UPDATE SET status = excluded.status, language = excluded.language,
           data_key_id = excluded.data_key_id, contact_ciphertext = excluded.contact_ciphertext, updated_at = excluded.updated_at
         RETURNING (xmax = 0) AS inserted`,
        [
          records.map((r) => r.fingerprint),
          records.map((r) => r.status),
          records.map((r) => r.language),
          records.map((r) => r.dataKeyId),
          records.map((r) => r.contactCiphertext),
          now,
        ],
      );
      const inserted = res.rows.filter((r) => r.inserted).length;
      return { inserted, updated: res.rows.length - inserted };
    });
  }

  async get(fingerprint: string): Promise<CardholderRecord | undefined> {
    const rows = await this.#query('SELECT * FROM cardholders WHERE fingerprint = $1', [
      fingerprint,
    ]);
    return rows[0] === undefined ? undefined : toCardholderRecord(rows[0]);
  }

  async count(): Promise<number> {
    return Number((await this.#query('SELECT COUNT(*) AS n FROM cardholders', []))[0]!.n);
  }

  async #query(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    try {
      return (await this.#pool.query<Record<string, unknown>>(sql, params)).rows;
    } catch (cause) {
      throw new StorageError('PostgreSQL cardholder query failed', { cause });
    }
  }
}
