import type pg from 'pg';
import { StorageError } from '../errors.js';
import type { SqlDriver } from './sql-driver.js';

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
  };
}

/** `?` → `$n`. The admin statements (all in `storage/`) hold no `?` inside a literal. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
