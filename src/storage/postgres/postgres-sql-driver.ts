import type pg from 'pg';
import { StorageError } from '../../errors.js';
import type { SqlDriver } from '../sql-driver.js';
import type { SqlScript } from '../sql-script.js';
import { OUTBOX_CHANNEL } from './postgres-outbox-dialect.js';
import { inTransaction } from './postgres-transaction.js';

/** Awaits each statement of a script on `client`; call it inside BEGIN … COMMIT. */
export async function runPostgresScript<T>(
  client: pg.ClientBase,
  script: SqlScript<T>,
): Promise<T> {
  let step = script.next();
  while (!step.done) {
    const s = step.value;
    let result: unknown;
    if (s.op === 'outbox-queued') await client.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
    else {
      const r = await client.query(numbered(s.sql), s.params as unknown[]);
      result = s.op === 'all' ? r.rows : (r.rowCount ?? 0);
    }
    step = script.next(result);
  }
  return step.value;
}

/** A {@link SqlDriver} on a PostgreSQL pool: `?` placeholders become `$1, $2, …`. */
export function postgresSqlDriver(pool: pg.Pool): SqlDriver {
  return {
    dialect: 'postgres',
    async all<R>(sql: string, params: readonly unknown[] = []) {
      try {
        return (await pool.query(numbered(sql), params as unknown[])).rows as R[];
      } catch (cause) {
        throw new StorageError('PostgreSQL query failed', { cause });
      }
    },
    async run(sql: string, params: readonly unknown[] = []) {
      try {
        return (await pool.query(numbered(sql), params as unknown[])).rowCount ?? 0;
      } catch (cause) {
        throw new StorageError('PostgreSQL query failed', { cause });
      }
    },
    transaction<T>(script: () => SqlScript<T>) {
      return inTransaction(pool, 'PostgreSQL transaction failed', (client) =>
        runPostgresScript(client, script()),
      );
    },
  };
}

/** `?` → `$n`. The shared statements (all in `storage/`) hold no `?` inside a literal. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
