import pg from 'pg';
import type { Config } from '../config/config-schema.js';
import type { NotificationStatus } from '../domain/notification-statuses.js';
import { StorageError } from '../errors.js';
import { type AdminStores, createAdminStores } from './admin-stores.js';
import { SqlAlertStore } from './alert-store.js';
import { postgresMigrations } from './migrations/postgres-migrations.js';
import type {
  ListQuery,
  NotificationRecord,
  NotificationSummary,
  QuarantinedNotification,
  RecordOutcome,
} from './notification-record.js';
import type { BackupResult, NotificationStore, StoreOptions } from './notification-store.js';
import type { OutboxOptions, OutboxStore } from './outbox-store.js';
import { enqueueDeliveries, postgresOutboxDialect } from './postgres/postgres-outbox-dialect.js';
import { PostgresCardholderStore } from './postgres-cardholder-store.js';
import { postgresSqlDriver } from './postgres-sql-driver.js';
import { inTransaction } from './postgres-transaction.js';
import type { RiskStores } from './risk-store.js';
import {
  PURGE_ALERTS,
  PURGE_SET,
  PURGEABLE,
  QUARANTINED_COLUMNS,
  RECORD_COLUMNS,
  recordValues,
  SUMMARY_COLUMNS,
  toQuarantined,
  toSummary,
  UPDATABLE_COLUMNS,
} from './row-mapping.js';
import { SqlOutbox } from './sql-outbox.js';
import { SqlRiskStore } from './sql-risk-store.js';

/** Advisory lock key for migrations: any fixed 64-bit number unique to this application. */
const MIGRATION_LOCK = 7_204_118_305_117_001n;

const INSERT = `INSERT INTO notifications (${RECORD_COLUMNS.join(', ')})
  VALUES (${RECORD_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (dedup_key) DO NOTHING RETURNING id`;
const UPDATE_QUARANTINED = `UPDATE notifications SET ${UPDATABLE_COLUMNS.map((c, i) => `${c} = $${i + 1}`).join(', ')}, purged_at = NULL
  WHERE id = $${UPDATABLE_COLUMNS.length + 1} AND status = 'quarantined' RETURNING id, status`;

/**
 * Shared store for several instances. Every decision that must hold across instances is made
 * by PostgreSQL: the unique dedup key under concurrent inserts (`ON CONFLICT DO NOTHING`), the
 * row lock when promoting a quarantined notification, an advisory lock around migrations.
 */
export class PostgresStore implements NotificationStore {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  readonly #now: () => number;
  readonly #sinks: readonly string[];
  readonly #holdMs: number;
  readonly #onDeliveriesQueued: (() => void) | undefined;

  constructor(
    storage: Config['storage'],
    options: StoreOptions & { now?: () => number; schema?: string } = {},
  ) {
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
    this.#sinks = [...(options.sinks ?? [])];
    this.#holdMs = options.deliveryHoldMs ?? 0;
    this.#onDeliveriesQueued = options.onDeliveriesQueued;
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

  openOutbox(options: OutboxOptions = {}): OutboxStore {
    const sql = postgresSqlDriver(this.#pool);
    return new SqlOutbox(
      sql,
      postgresOutboxDialect(sql, (name) => this.newClient(name)),
      options,
    );
  }

  openRiskStores(): RiskStores {
    return {
      cardholders: new PostgresCardholderStore(this.#pool),
      risk: new SqlRiskStore(postgresSqlDriver(this.#pool), { poolSize: this.#pool.options.max }),
      alerts: new SqlAlertStore(postgresSqlDriver(this.#pool)),
    };
  }

  openAdminStores(now?: () => number): AdminStores {
    return createAdminStores(postgresSqlDriver(this.#pool), now, {
      sinks: this.#sinks,
      onDeliveriesQueued: this.#onDeliveriesQueued,
    });
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

  record(rec: NotificationRecord): Promise<RecordOutcome> {
    const tx = this.#tx(async (c) => {
      const now = this.#now();
      const inserted = await c.query(INSERT, recordValues(rec, now, Boolean));
      if (inserted.rowCount === 1) {
        // The outbox rows commit with the notification, or neither does: no dual write.
        if (rec.status === 'accepted')
          await enqueueDeliveries(c, rec.id, this.#sinks, now, this.#holdMs);
        return { id: rec.id, status: rec.status, result: 'inserted' } satisfies RecordOutcome;
      }
      // The conflicting row is committed (ON CONFLICT waited for it); lock it for a possible
      // promotion.
      const existing = (
        await c.query<{ id: string; status: NotificationStatus }>(
          'UPDATE notifications SET visa_attempts = visa_attempts + 1, updated_at = $2 WHERE dedup_key = $1 RETURNING id, status',
          [rec.dedupKey, now],
        )
      ).rows[0]!;
      if (existing.status === 'quarantined') {
        const promoted = await this.#updateQuarantined(c, { ...rec, id: existing.id }, now);
        if (promoted !== undefined) return promoted;
      }
      return {
        id: existing.id,
        status: existing.status,
        result: 'duplicate',
      } satisfies RecordOutcome;
    });
    return this.#afterCommit(tx);
  }

  /** Tells an in-process worker that deliveries were committed (others hear pg_notify). */
  async #afterCommit(tx: Promise<RecordOutcome>): Promise<RecordOutcome> {
    const outcome = await tx;
    if (outcome.result === 'inserted' || outcome.result === 'promoted') {
      if (outcome.status === 'accepted' && this.#sinks.length > 0) this.#onDeliveriesQueued?.();
    }
    return outcome;
  }

  async #updateQuarantined(
    c: pg.PoolClient,
    rec: NotificationRecord,
    now: number,
  ): Promise<RecordOutcome | undefined> {
    const values = recordValues(rec, now, Boolean);
    const byColumn = new Map(RECORD_COLUMNS.map((col, i) => [col as string, values[i]]));
    const row = (
      await c.query<{ id: string; status: NotificationStatus }>(UPDATE_QUARANTINED, [
        ...UPDATABLE_COLUMNS.map((col) => byColumn.get(col)),
        rec.id,
      ])
    ).rows[0];
    if (row === undefined) return undefined;
    if (row.status === 'accepted')
      await enqueueDeliveries(c, row.id, this.#sinks, now, this.#holdMs);
    return {
      id: row.id,
      status: row.status,
      result: rec.status === 'accepted' ? 'promoted' : 'duplicate',
    };
  }

  updateQuarantined(rec: NotificationRecord): Promise<RecordOutcome> {
    return this.#afterCommit(
      this.#tx(async (c) => {
        const outcome = await this.#updateQuarantined(c, rec, this.#now());
        if (outcome === undefined) throw new StorageError('notification is not quarantined');
        return outcome;
      }),
    );
  }

  async purge(
    before: number,
    batchSize = 500,
    onBatch?: (purged: number) => void,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      // Short transactions, rows locked in received_at order. Not SKIP LOCKED: a row briefly
      // locked by a writer (a risk assessment's foreign key takes KEY SHARE on it) would be
      // skipped and only purged an interval later. Two instances purging at once queue on the
      // same rows; the second finds them purged (re-checked after the wait) and moves on.
      const rows = await this.#query(
        `UPDATE notifications SET ${PURGE_SET}, purged_at = $1, updated_at = $1
         WHERE id IN (SELECT id FROM notifications WHERE received_at < $2 AND ${PURGEABLE}
                      ORDER BY received_at LIMIT $3 FOR UPDATE)
         RETURNING id`,
        [this.#now(), before, batchSize],
      );
      total += rows.length;
      onBatch?.(total);
      if (rows.length < batchSize) break;
    }
    await this.#query(PURGE_ALERTS.replace('$BEFORE', '$1'), [before]);
    return total;
  }

  async findByDedupKey(
    dedupKey: string,
  ): Promise<{ id: string; status: NotificationStatus } | undefined> {
    return (
      await this.#query<{ id: string; status: NotificationStatus }>(
        'SELECT id, status FROM notifications WHERE dedup_key = $1',
        [dedupKey],
      )
    )[0];
  }

  async countRetry(dedupKey: string): Promise<void> {
    await this.#query(
      'UPDATE notifications SET visa_attempts = visa_attempts + 1, updated_at = $2 WHERE dedup_key = $1',
      [dedupKey, this.#now()],
    );
  }

  async list(query: ListQuery): Promise<NotificationSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.status) {
      params.push(query.status);
      where.push(`status = $${params.length}`);
    }
    if (query.before) {
      params.push(query.before.receivedAt, query.before.id);
      where.push(`(received_at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(query.limit ?? 50);
    const rows = await this.#query<Record<string, unknown>>(
      `SELECT ${SUMMARY_COLUMNS} FROM notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY received_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toSummary);
  }

  async listQuarantined(limit: number, afterId = ''): Promise<QuarantinedNotification[]> {
    const rows = await this.#query<Record<string, unknown>>(
      `SELECT ${QUARANTINED_COLUMNS}
       FROM notifications WHERE status = 'quarantined' AND purged_at IS NULL AND id > $1 ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map(toQuarantined);
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

  #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, 'PostgreSQL transaction failed', fn);
  }
}
