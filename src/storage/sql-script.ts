/**
 * A transaction written once for both dialects. better-sqlite3 runs a transaction as one
 * synchronous function, node-postgres as a sequence of awaited queries; a generator that yields
 * each statement and receives its result runs on either: `runSqliteScript` drives it
 * synchronously inside SQLite's transaction (nothing else on the connection can interleave),
 * `runPostgresScript` awaits each statement on one client inside BEGIN … COMMIT. Statements use
 * `?` placeholders, as {@link SqlDriver} does. Storage-internal.
 */

/** One statement of a script; `outbox-queued` wakes other processes' delivery workers. */
export type SqlStep =
  | { op: 'all'; sql: string; params: readonly unknown[] }
  | { op: 'run'; sql: string; params: readonly unknown[] }
  | { op: 'outbox-queued' };

/** A transaction script: yields steps, gets each one's result back, returns `T`. */
export type SqlScript<T> = Generator<SqlStep, T, unknown>;

/** Rows of a query, inside a script: `const rows = yield* all(sql, params)`. */
export function* all<R = Record<string, unknown>>(
  sql: string,
  params: readonly unknown[] = [],
): Generator<SqlStep, R[], unknown> {
  return (yield { op: 'all', sql, params }) as R[];
}

/** Rows changed by a statement, inside a script. */
export function* run(
  sql: string,
  params: readonly unknown[] = [],
): Generator<SqlStep, number, unknown> {
  return (yield { op: 'run', sql, params }) as number;
}

/**
 * Says the script queued deliveries: PostgreSQL notifies the outbox channel (delivered at commit,
 * like the notification store's own), SQLite has no such signal (its workers poll).
 */
export function* outboxQueued(): Generator<SqlStep, void, unknown> {
  yield { op: 'outbox-queued' };
}
