import { toCardholderRecord } from './cardholder-row-mapping.js';
import type { CardholderRecord, CardholderStore } from './cardholder-store.js';
import type { SqlDriver } from './sql-driver.js';
import type { SqlScript } from './sql-script.js';

/** A dialect's bulk upsert of cardholders (the one statement that differs), as a script. */
export type CardholderUpsert = (
  records: readonly CardholderRecord[],
  now: number,
) => SqlScript<{ inserted: number; updated: number }>;

/**
 * The cardholder directory on the notification store's connection, written once over the
 * {@link SqlDriver}; the dialect gives only the bulk upsert. An import is one durable
 * transaction (SQLite: in the group commit).
 */
export class SqlCardholderStore implements CardholderStore {
  constructor(
    private readonly sql: SqlDriver,
    private readonly upsertScript: CardholderUpsert,
    private readonly now: () => number = Date.now,
  ) {}

  async upsert(
    records: readonly CardholderRecord[],
  ): Promise<{ inserted: number; updated: number }> {
    if (records.length === 0) return { inserted: 0, updated: 0 };
    const now = this.now();
    return this.sql.transaction(() => this.upsertScript(records, now));
  }

  async get(fingerprint: string): Promise<CardholderRecord | undefined> {
    const [r] = await this.sql.all('SELECT * FROM cardholders WHERE fingerprint = ?', [
      fingerprint,
    ]);
    return r === undefined ? undefined : toCardholderRecord(r);
  }

  async count(): Promise<number> {
    const [r] = await this.sql.all<{ n: number | string }>('SELECT COUNT(*) AS n FROM cardholders');
    return Number(r!.n);
  }
}
