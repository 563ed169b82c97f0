/**
 * The one way storage runs SQL, on either dialect: statements written once with `?`
 * placeholders, transactions written once as scripts (`sql-script.ts`). The driver owns what the
 * dialects do differently underneath: placeholders (`$n` on PostgreSQL), the prepared-statement
 * cache and the group commit (SQLite), the pool (PostgreSQL). Storage-internal: nothing above
 * `storage/` sees one.
 */
import type { SqlScript } from './sql-script.js';

/** How a write commits. */
export interface WriteOptions {
  /**
   * Default true. False for what the service can redo or derive again (the outbox's claims and
   * outcomes: decision 0044; risk assessments: decision 0014): on SQLite such a write commits
   * without waiting for fsync when nothing durable shares its group commit. PostgreSQL ignores it.
   */
  durable?: boolean;
}

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  /** Rows of a read (or of a write's RETURNING, on PostgreSQL outside a transaction). */
  all<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * One write statement, committed on its own (SQLite: in the notification store's group
   * commit); resolves with the rows changed, after the commit.
   */
  run(sql: string, params?: readonly unknown[], options?: WriteOptions): Promise<number>;
  /**
   * Runs a script (see `sql-script.ts`) in one transaction and resolves after its commit; any
   * error rolls it back. SQLite: in the notification store's group commit.
   */
  transaction<T>(script: () => SqlScript<T>, options?: WriteOptions): Promise<T>;
}
