import { StorageError } from '../errors.js';
import type { NotificationStore } from '../storage/notification-store.js';
import type { PostgresStore } from '../storage/postgres-store.js';
import type { SqliteStore } from '../storage/sqlite-store.js';

/**
 * The few statements the admin side needs, written once with `?` placeholders and run on either
 * dialect. Reads and small writes only: Visa's write path keeps its own tuned statements.
 */
export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  all<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** Builds a driver on the connection the notification store already holds. */
export function sqlDriverFor(store: NotificationStore): SqlDriver {
  if (store.dialect === 'sqlite') {
    const db = (store as SqliteStore).database;
    const bind = (params: readonly unknown[]) => params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
    return {
      dialect: 'sqlite',
      async all<R>(sql: string, params: readonly unknown[] = []) {
        try {
          return db.prepare(sql).all(...bind(params)) as R[];
        } catch (cause) {
          throw new StorageError('SQLite read failed', { cause });
        }
      },
      async run(sql: string, params: readonly unknown[] = []) {
        try {
          return db.prepare(sql).run(...bind(params)).changes;
        } catch (cause) {
          throw new StorageError('SQLite write failed', { cause });
        }
      },
    };
  }
  const pool = (store as PostgresStore).pool;
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

/** `?` → `$1, $2, …` (the admin statements hold no `?` inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
