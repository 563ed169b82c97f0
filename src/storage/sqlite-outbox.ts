import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import { uuidV7 } from '../util/uuid-v7.js';
import { assessedBy, claimableCondition, NO_OPEN_SIBLING } from './outbox-claim.js';
import {
  ANSWER_JOIN,
  EVENT_SOURCE_COLUMNS,
  SUMMARY_COLUMNS,
  toDeliverySummary,
  toEventSource,
} from './outbox-row-mapping.js';
import type {
  ClaimedDelivery,
  ClaimRequest,
  DeliveredCount,
  DeliveryQuery,
  DeliverySummary,
  FailureRecord,
  OutboxOptions,
  OutboxStats,
  OutboxStore,
  SinkState,
} from './outbox-store.js';

/** The notification store's connection and group commit, which the outbox shares. */
export interface SqliteConnection {
  readonly database: Database.Database;
  write<T>(run: () => T, options?: { durable?: boolean }): Promise<T>;
}

const INSERT_DELIVERY = `INSERT INTO deliveries
  (id, notification_id, sink, origin, status, attempts, next_attempt_at, created_at, updated_at)
  VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)`;

/**
 * The delivery worker's own writes (claims and outcomes) commit without waiting for fsync
 * (decision 0044): losing one to a power cut means a delivery made again, which at-least-once
 * delivery allows (receivers deduplicate on the event id). The deliveries themselves are written
 * with their notification, durably; operators' commands (retry, replay, sinks) stay durable.
 */
const NOT_DURABLE = { durable: false } as const;

const insertStatements = new WeakMap<Database.Database, Database.Statement>();

/**
 * Writes one pending delivery per sink for an accepted notification, due `holdMs` from now (the
 * wait for its risk assessment, which makes it due earlier: outbox-claim.ts). Called by
 * SqliteStore inside the savepoint that stores the notification, so both commit or neither does.
 */
export function enqueueDeliveries(
  db: Database.Database,
  notificationId: string,
  sinks: readonly string[],
  now: number,
  holdMs = 0,
): void {
  if (sinks.length === 0) return;
  let insert = insertStatements.get(db);
  if (insert === undefined) {
    insert = db.prepare(INSERT_DELIVERY);
    insertStatements.set(db, insert);
  }
  for (const sink of sinks)
    insert.run(uuidV7(now), notificationId, sink, 'accepted', now + holdMs, now, now);
}

/**
 * The outbox on SQLite, sharing the notification store's connection and its group commit.
 * There is no `SKIP LOCKED` here: a claim is an UPDATE inside the store's IMMEDIATE
 * transaction, which holds SQLite's single write lock, so two claims never see the same row
 * as free. One worker per database is the supported layout (docs/delivery.md).
 */
export class SqliteOutbox implements OutboxStore {
  readonly #store: SqliteConnection;
  readonly #db: Database.Database;
  readonly #now: () => number;

  readonly #riskWaitMs: number | undefined;

  constructor(store: SqliteConnection, options: OutboxOptions = {}) {
    this.#store = store;
    this.#db = store.database;
    this.#now = options.now ?? Date.now;
    this.#riskWaitMs = options.riskWaitMs;
  }

  claim(req: ClaimRequest): Promise<ClaimedDelivery[]> {
    const token = `${req.workerId}/${randomBytes(6).toString('base64url')}`;
    return this.#store.write(() => {
      const now = this.#now();
      const ids = this.#prepare(
        `UPDATE deliveries SET lease_until = @until, lease_owner = @token, attempts = attempts + 1, updated_at = @now
           WHERE id IN (SELECT d.id FROM deliveries d WHERE ${claimableCondition((n) => `@${n}`)}
                        ORDER BY d.next_attempt_at, d.id LIMIT @limit)
           RETURNING id`,
      ).all({
        sink: req.sink,
        now,
        assessedBy: assessedBy(now, this.#riskWaitMs),
        until: now + req.leaseMs,
        token,
        limit: req.limit,
      }) as { id: string }[];
      if (ids.length === 0) return [];
      const rows = this.#prepare(
        `SELECT d.id, d.sink, d.attempts, d.created_at, ${EVENT_SOURCE_COLUMNS}
           FROM deliveries d JOIN notifications n ON n.id = d.notification_id ${ANSWER_JOIN('d')}
           WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.next_attempt_at, d.id`,
      ).all(JSON.stringify(ids.map((r) => r.id))) as Record<string, unknown>[];
      return rows.map((r) => ({
        id: String(r.id),
        sink: String(r.sink),
        attempt: Number(r.attempts),
        leaseToken: token,
        createdAt: Number(r.created_at),
        source: toEventSource(r),
      }));
    }, NOT_DURABLE);
  }

  complete(id: string, leaseToken: string): Promise<boolean> {
    return this.#store.write(() => {
      const now = this.#now();
      const r = this.#prepare(
        `UPDATE deliveries SET status = 'delivered', delivered_at = ?, updated_at = ?, lease_until = NULL, lease_owner = NULL
           WHERE id = ? AND lease_owner = ?`,
      ).run(now, now, id, leaseToken);
      return r.changes === 1;
    }, NOT_DURABLE);
  }

  fail(id: string, leaseToken: string, f: FailureRecord): Promise<boolean> {
    return this.#store.write(() => {
      const r = this.#prepare(
        `UPDATE deliveries SET status = ?, next_attempt_at = ?, last_error = ?, last_status = ?, updated_at = ?,
             lease_until = NULL, lease_owner = NULL
           WHERE id = ? AND lease_owner = ?`,
      ).run(
        f.dead ? 'dead' : 'failed',
        f.nextAttemptAt,
        f.error,
        f.httpStatus,
        this.#now(),
        id,
        leaseToken,
      );
      return r.changes === 1;
    }, NOT_DURABLE);
  }

  async list(q: DeliveryQuery): Promise<DeliverySummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      where.push(sql);
      params.push(v);
    };
    if (q.status) add('d.status = ?', q.status);
    if (q.sink) add('d.sink = ?', q.sink);
    if (q.notificationId) add('d.notification_id = ?', q.notificationId);
    if (q.before) {
      where.push('(d.created_at < ? OR (d.created_at = ? AND d.id < ?))');
      params.push(q.before.createdAt, q.before.createdAt, q.before.id);
    }
    params.push(q.limit ?? 50);
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM deliveries d ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY d.created_at DESC, d.id DESC LIMIT ?`;
    return this.#read(() =>
      (this.#prepare(sql).all(...params) as Record<string, unknown>[]).map(toDeliverySummary),
    );
  }

  retry(target: { id: string } | { dead: true; sink?: string }): Promise<number> {
    return this.#store.write(() => {
      const now = this.#now();
      const set = `UPDATE deliveries AS d SET status = 'pending', attempts = 0, next_attempt_at = @now, updated_at = @now,
                     lease_until = NULL, lease_owner = NULL`;
      const r =
        'id' in target
          ? this.#prepare(
              `${set} WHERE d.id = @id AND d.status IN ('failed', 'dead')
                   AND (d.lease_until IS NULL OR d.lease_until <= @now) AND ${NO_OPEN_SIBLING}`,
            ).run({ now, id: target.id })
          : this.#prepare(
              `${set} WHERE d.status = 'dead' AND (@sink IS NULL OR d.sink = @sink) AND ${NO_OPEN_SIBLING}`,
            ).run({ now, sink: target.sink ?? null });
      return r.changes;
    });
  }

  replay(sink: string, since: number): Promise<number> {
    return this.#store.write(() => {
      const now = this.#now();
      const ids = this.#prepare(
        `SELECT n.id FROM notifications n
           WHERE n.status = 'accepted' AND n.received_at >= ?
             AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.notification_id = n.id AND o.sink = ? AND o.event = 'enrollment'
                             AND o.status IN ('pending', 'failed'))
           ORDER BY n.received_at, n.id`,
      )
        .pluck()
        .all(since, sink) as string[];
      const insert = this.#prepare(INSERT_DELIVERY);
      for (const id of ids) insert.run(uuidV7(now), id, sink, 'replay', now, now, now);
      return ids.length;
    });
  }

  disableSink(name: string, reason: string): Promise<void> {
    return this.#store.write(() => {
      const now = this.#now();
      this.#prepare(
        `INSERT INTO sink_states (name, disabled_at, disabled_reason, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason,
             updated_at = excluded.updated_at`,
      ).run(name, now, reason, now);
    });
  }

  enableSink(name: string): Promise<boolean> {
    return this.#store.write(
      () =>
        this.#prepare(
          'UPDATE sink_states SET disabled_at = NULL, disabled_reason = NULL, updated_at = ? WHERE name = ? AND disabled_at IS NOT NULL',
        ).run(this.#now(), name).changes === 1,
    );
  }

  async sinkStates(): Promise<SinkState[]> {
    const rows = this.#read(() =>
      this.#prepare(
        'SELECT name, disabled_at, disabled_reason FROM sink_states ORDER BY name',
      ).all(),
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      name: String(r.name),
      disabledAt: r.disabled_at == null ? null : Number(r.disabled_at),
      disabledReason: (r.disabled_reason as string | null) ?? null,
    }));
  }

  async stats(): Promise<OutboxStats[]> {
    const rows = this.#read(() =>
      this.#prepare(
        `SELECT sink, status, count(*) AS count, min(created_at) AS oldest FROM deliveries
           WHERE status IN ('pending', 'failed', 'dead') GROUP BY sink, status ORDER BY sink, status`,
      ).all(),
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      sink: String(r.sink),
      status: r.status as OutboxStats['status'],
      count: Number(r.count),
      oldestCreatedAt: Number(r.oldest),
    }));
  }

  async deliveredSince(since: number): Promise<DeliveredCount[]> {
    const rows = this.#read(() =>
      this.#prepare(
        "SELECT sink, count(*) AS count FROM deliveries WHERE created_at >= ? AND status = 'delivered' GROUP BY sink",
      ).all(since),
    ) as Record<string, unknown>[];
    return rows.map((r) => ({ sink: String(r.sink), count: Number(r.count) }));
  }

  async watch(): Promise<{ close(): Promise<void> }> {
    return { close: async () => {} };
  }

  readonly #statements = new Map<string, Database.Statement>();

  /** Prepared once per SQL text: the worker claims several times a second. */
  #prepare(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw new StorageError('SQLite read failed', { cause });
    }
  }
}
