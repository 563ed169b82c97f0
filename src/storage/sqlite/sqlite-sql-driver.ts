import type Database from 'better-sqlite3';
import { StorageError } from '../../errors.js';
import type { SqlDriver, WriteOptions } from '../sql-driver.js';
import type { SqlScript } from '../sql-script.js';

/** Runs `run` in the notification store's group commit and resolves after its commit. */
export type SqliteGroupWrite = <T>(run: () => T, options?: WriteOptions) => Promise<T>;

// Booleans bind as 0/1 (SQLite has no boolean).
const bind = (params: readonly unknown[]) =>
  params.map((p) => (typeof p === 'boolean' ? Number(p) : p));

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function prepared(db: Database.Database, sql: string): Database.Statement {
  let byText = statements.get(db);
  if (byText === undefined) {
    byText = new Map();
    statements.set(db, byText);
  }
  let st = byText.get(sql);
  if (st === undefined) {
    st = db.prepare(sql);
    byText.set(sql, st);
  }
  return st;
}

/**
 * Drives a script synchronously on `db`; call it inside a transaction (the group commit's, or
 * `db.transaction`). Nothing else runs on the connection meanwhile: the script never yields to
 * the event loop.
 */
export function runSqliteScript<T>(db: Database.Database, script: SqlScript<T>): T {
  let step = script.next();
  while (!step.done) {
    const s = step.value;
    let result: unknown;
    if (s.op === 'all') result = prepared(db, s.sql).all(...bind(s.params));
    else if (s.op === 'run') result = prepared(db, s.sql).run(...bind(s.params)).changes;
    step = script.next(result);
  }
  return step.value;
}

/**
 * A {@link SqlDriver} on an open SQLite connection, every statement prepared once per
 * connection. Writes go through `write` (the notification store's group commit) when given,
 * else each is its own IMMEDIATE transaction.
 */
export function sqliteSqlDriver(db: Database.Database, write?: SqliteGroupWrite): SqlDriver {
  const commit = <T>(once: () => T, options?: WriteOptions): Promise<T> => {
    if (write) return write(once, options);
    try {
      return Promise.resolve(db.transaction(once).immediate());
    } catch (cause) {
      return Promise.reject(new StorageError('SQLite write failed', { cause }));
    }
  };
  return {
    dialect: 'sqlite',
    async all<R>(sql: string, params: readonly unknown[] = []) {
      try {
        return prepared(db, sql).all(...bind(params)) as R[];
      } catch (cause) {
        throw new StorageError('SQLite read failed', { cause });
      }
    },
    run(sql: string, params: readonly unknown[] = [], options?: WriteOptions) {
      return commit(() => prepared(db, sql).run(...bind(params)).changes, options);
    },
    transaction<T>(script: () => SqlScript<T>, options?: WriteOptions) {
      // A new generator per run: the group commit runs a batch again, write by write, after a
      // failed write.
      return commit(() => runSqliteScript(db, script()), options);
    },
  };
}
