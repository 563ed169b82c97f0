import type pg from 'pg';
import { StorageError } from '../../errors.js';
import type { SqlDriver } from '../sql-driver.js';
import type { SqlScript } from '../sql-script.js';
import { OUTBOX_CHANNEL } from './postgres-outbox-dialect.js';
import { inTransaction } from './postgres-transaction.js';

/**
 * Distinct statement texts given a name (a prepared statement, parsed once per connection);
 * past this, texts run unnamed. The texts are this module's own, so the bound is only a guard
 * against a statement built with a varying number of placeholders.
 */
const MAX_NAMED = 2000;
const named = new Map<string, { name: string; text: string }>();
/**
 * A text made for one batch's size (`IN (?, ?, …)`, several `VALUES` rows): run unnamed, since
 * each length would be one more statement kept by every connection for its lifetime.
 */
const VARIABLE_LENGTH = /IN \(\?(, \?)+\)|\), \(\?/;
const texts = new Map<string, string>();

/**
 * The query for `sql` (`?` placeholders): named when `prepared`, so that PostgreSQL parses it
 * once per connection (the extended protocol's Parse, then Bind/Execute only) rather than at
 * each execution, and plans it generically once it has seen it a few times.
 */
function statement(sql: string, values: readonly unknown[], prepared: boolean): pg.QueryConfig {
  const s = prepared ? named.get(sql) : undefined;
  if (s !== undefined) return { name: s.name, text: s.text, values: values as unknown[] };
  let text = texts.get(sql);
  if (text === undefined) {
    // First sight of this text: decided once, not at every execution.
    text = numbered(sql);
    if (prepared && named.size < MAX_NAMED && !VARIABLE_LENGTH.test(sql)) {
      const n = { name: `ctp_${named.size.toString(36)}`, text };
      named.set(sql, n);
      return { name: n.name, text, values: values as unknown[] };
    }
    if (texts.size < MAX_NAMED) texts.set(sql, text);
  }
  return { text, values: values as unknown[] };
}

const NOTIFY = `SELECT pg_notify('${OUTBOX_CHANNEL}', '')`;

/** Awaits each statement of a script on `client`; call it inside BEGIN … COMMIT. */
export async function runPostgresScript<T>(
  client: pg.ClientBase,
  script: SqlScript<T>,
  prepared = true,
): Promise<T> {
  let step = script.next();
  while (!step.done) {
    const s = step.value;
    let result: unknown;
    if (s.op === 'outbox-queued') await client.query(statement(NOTIFY, [], prepared));
    else {
      const r = await client.query(statement(s.sql, s.params, prepared));
      result = s.op === 'all' ? r.rows : (r.rowCount ?? 0);
    }
    step = script.next(result);
  }
  return step.value;
}

/**
 * A {@link SqlDriver} on a PostgreSQL pool: `?` placeholders become `$1, $2, …`; with
 * `prepared` (default true) every statement is a named prepared statement.
 */
export function postgresSqlDriver(
  pool: pg.Pool,
  { prepared = true }: { prepared?: boolean } = {},
): SqlDriver {
  return {
    dialect: 'postgres',
    async all<R>(sql: string, params: readonly unknown[] = []) {
      try {
        return (await pool.query(statement(sql, params, prepared))).rows as R[];
      } catch (cause) {
        throw new StorageError('PostgreSQL query failed', { cause });
      }
    },
    async run(sql: string, params: readonly unknown[] = []) {
      try {
        return (await pool.query(statement(sql, params, prepared))).rowCount ?? 0;
      } catch (cause) {
        throw new StorageError('PostgreSQL query failed', { cause });
      }
    },
    transaction<T>(script: () => SqlScript<T>) {
      return inTransaction(pool, 'PostgreSQL transaction failed', (client) =>
        runPostgresScript(client, script(), prepared),
      );
    },
  };
}

/** `?` → `$n`. The shared statements (all in `storage/`) hold no `?` inside a literal. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
