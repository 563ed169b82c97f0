import type Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import type { SqlDriver } from './sql-driver.js';

/**
 * A {@link SqlDriver} on an open SQLite connection. Booleans bind as 0/1 (SQLite has no boolean).
 */
export function sqliteSqlDriver(db: Database.Database): SqlDriver {
  const bind = (params: readonly unknown[]) =>
    params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
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
