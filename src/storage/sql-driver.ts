/**
 * The few statements of the admin side (operators, sessions, audit log, console queries),
 * written once with `?` placeholders and run on either dialect. Reads and small writes only:
 * Visa's write path keeps its own tuned statements in the dialect stores. Storage-internal: the
 * stores in `admin-stores.ts` take one; nothing above `storage/` does.
 */
import type { SqlScript } from './sql-script.js';

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  all<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Runs a script (see `sql-script.ts`) in one transaction and resolves after its commit; any
   * error rolls it back. SQLite: in the notification store's group commit, durable.
   */
  transaction<T>(script: () => SqlScript<T>): Promise<T>;
}
