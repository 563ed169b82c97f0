/**
 * The few statements of the admin side (operators, sessions, audit log, console queries),
 * written once with `?` placeholders and run on either dialect. Reads and small writes only:
 * Visa's write path keeps its own tuned statements in the dialect stores. Storage-internal: the
 * stores in `admin-stores.ts` take one; nothing above `storage/` does.
 */
export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  all<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}
