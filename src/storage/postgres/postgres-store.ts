import pg from 'pg';
import type { Config } from '../../config/config-schema.js';
import { StorageError } from '../../errors.js';
import type { CardholderStore } from '../cardholder-store.js';
import type { BackupResult, StoreOptions } from '../notification-store.js';
import type { OutboxDialect } from '../outbox-dialect.js';
import { SqlCardholderStore } from '../sql-cardholder-store.js';
import type { SqlDriver } from '../sql-driver.js';
import { SqlStore } from '../sql-store.js';
import { postgresCardholderUpsert } from './postgres-cardholder-upsert.js';
import { postgresMigrations } from './postgres-migrations.js';
import { postgresNotificationsDialect, postgresOutboxDialect } from './postgres-outbox-dialect.js';
import { postgresSqlDriver } from './postgres-sql-driver.js';

/** Advisory lock key for migrations: any fixed 64-bit number unique to this application. */
const MIGRATION_LOCK = 7_204_118_305_117_001n;

/**
 * Shared store for several instances. Every decision that must hold across instances is made
 * by PostgreSQL: the unique dedup key under concurrent inserts (`ON CONFLICT DO NOTHING`), the
 * row lock when promoting a quarantined notification, an advisory lock around migrations.
 */
export class PostgresStore extends SqlStore {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  readonly #now: () => number;
  readonly #prepared: boolean;

  /** `storage.preparedStatements` defaults to true here as in the config. */
  constructor(
    storage: Omit<Config['storage'], 'preparedStatements'> & { preparedStatements?: boolean },
    options: StoreOptions & { now?: () => number; schema?: string } = {},
  ) {
    super(options);
    this.#clientConfig = {
      connectionString: storage.url,
      statement_timeout: storage.statementTimeoutMs,
      // statement_timeout is enforced by the server; a connection that silently stops answering
      // (network partition, dead proxy) would hold a pooled client forever. The client-side
      // deadline, a little longer, fails the query and the pool discards that connection.
      query_timeout: storage.statementTimeoutMs + 1000,
      keepAlive: true,
      connectionTimeoutMillis: Math.max(1000, storage.statementTimeoutMs),
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    };
    this.#pool = new pg.Pool({ ...this.#clientConfig, max: storage.poolSize });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.#pool.on('error', () => {});
    // pg-pool listens for 'error' only while a client is idle. A connection reset while one is
    // checked out (a transaction here, in the outbox or in the risk stores, which share this
    // pool) would be an unhandled 'error' event: an uncaught exception that ends the process.
    // The failure itself reaches the pending query, and pg-pool discards the client on release
    // (it is no longer queryable). Found by the storage-fault test, resetting mid-transaction.
    this.#pool.on('connect', (client) => client.on('error', () => {}));
    this.#now = options.now ?? Date.now;
    this.#prepared = storage.preparedStatements ?? true;
  }

  /**
   * A new connection outside the pool, same settings: for a long-lived LISTEN, which must not
   * hold one of the pool's connections (with `poolSize: 1` it would starve everything else).
   */
  newClient(applicationName: string): pg.Client {
    return new pg.Client({ ...this.#clientConfig, application_name: applicationName });
  }

  async backup(): Promise<BackupResult> {
    throw new StorageError(
      'ctp-notify backup copies SQLite only: back PostgreSQL up with pg_dump or base backups',
    );
  }

  protected sqlDriver(): SqlDriver {
    return postgresSqlDriver(this.#pool, { prepared: this.#prepared });
  }

  protected readonly notificationsDialect = postgresNotificationsDialect;

  protected get poolSize(): number | undefined {
    return this.#pool.options.max;
  }

  protected outboxDialect(sql: SqlDriver): OutboxDialect {
    return postgresOutboxDialect(sql, (name) => this.newClient(name));
  }

  protected cardholderStore(): CardholderStore {
    return new SqlCardholderStore(this.sqlDriver(), postgresCardholderUpsert);
  }

  /** The pool, for the dialect modules sharing it (outbox, risk stores) and tests. */
  get pool(): pg.Pool {
    return this.#pool;
  }

  async migrate(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (cause) {
      throw new StorageError('cannot connect to PostgreSQL', { cause });
    }
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
      );
      const done = new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
          (r) => r.version,
        ),
      );
      for (const m of postgresMigrations) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(
            'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
            [m.version, m.name, this.#now()],
          );
          await client.query('COMMIT');
        } catch (cause) {
          await client.query('ROLLBACK');
          throw new StorageError(`PostgreSQL migration ${m.version} (${m.name}) failed`, { cause });
        }
      }
    } catch (cause) {
      throw cause instanceof StorageError
        ? cause
        : new StorageError('PostgreSQL migration failed', { cause });
    } finally {
      await client
        .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()])
        .catch(() => {});
      client.release();
    }
  }

  async ping(): Promise<void> {
    await this.#query('SELECT 1', []);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (cause) {
      throw new StorageError('PostgreSQL query failed', { cause });
    }
  }
}
