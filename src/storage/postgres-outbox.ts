import { randomBytes } from 'node:crypto';
import type pg from 'pg';
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
import { inTransaction } from './postgres-transaction.js';

/** The notification store's pool, and new connections outside it (for LISTEN). */
export interface PostgresConnection {
  readonly pool: pg.Pool;
  newClient(applicationName: string): pg.Client;
}

/** application_name of the LISTEN connection (pg_stat_activity). */
export const LISTENER_NAME = 'ctp-notify-outbox-listen';

/** LISTEN/NOTIFY channel: a commit that queued deliveries wakes idle workers in other processes. */
export const OUTBOX_CHANNEL = 'ctp_notify_outbox';

/**
 * One statement: the pending rows and a NOTIFY, which PostgreSQL delivers only at commit (and
 * not at all on rollback), so a woken worker always finds the rows.
 */
const ENQUEUE = `WITH d AS (
    INSERT INTO deliveries (id, notification_id, sink, origin, status, attempts, next_attempt_at, created_at, updated_at)
    SELECT x.id, $1, x.sink, $2, 'pending', 0, $6, $3, $3 FROM unnest($4::text[], $5::text[]) AS x(id, sink)
    RETURNING 1)
  SELECT pg_notify('${OUTBOX_CHANNEL}', '') FROM (SELECT count(*) AS n FROM d) c WHERE c.n > 0`;

/**
 * Writes one pending delivery per sink, due `holdMs` from now (the wait for its risk assessment,
 * which makes it due earlier: outbox-claim.ts), on the client (and in the transaction) storing
 * the notification.
 */
export async function enqueueDeliveries(
  c: pg.ClientBase,
  notificationId: string,
  sinks: readonly string[],
  now: number,
  holdMs = 0,
): Promise<void> {
  if (sinks.length === 0) return;
  await c.query(ENQUEUE, [
    notificationId,
    'accepted',
    now,
    sinks.map(() => uuidV7(now)),
    sinks,
    now + holdMs,
  ]);
}

const CLAIM = `WITH claimed AS (
    UPDATE deliveries SET lease_until = $3, lease_owner = $4, attempts = deliveries.attempts + 1, updated_at = $2
    WHERE id IN (
      SELECT d.id FROM deliveries d
      WHERE ${claimableCondition((n) => (n === 'sink' ? '$1' : n === 'now' ? '$2' : '$6'))}
      ORDER BY d.next_attempt_at, d.id
      LIMIT $5
      FOR UPDATE SKIP LOCKED)
    RETURNING id, sink, attempts, created_at, next_attempt_at, notification_id, alert_id)
  SELECT c.id, c.sink, c.attempts, c.created_at, ${EVENT_SOURCE_COLUMNS}
  FROM claimed c JOIN notifications n ON n.id = c.notification_id ${ANSWER_JOIN('c')}
  ORDER BY c.next_attempt_at, c.id`;

/**
 * The outbox on PostgreSQL, on the notification store's pool. Several workers (processes or
 * machines) claim concurrently: `FOR UPDATE SKIP LOCKED` hands each due row to one of them,
 * and the lease (`lease_until`) lets another take it over if its worker dies.
 */
export class PostgresOutbox implements OutboxStore {
  readonly #pool: pg.Pool;
  readonly #store: PostgresConnection;
  readonly #now: () => number;

  readonly #riskWaitMs: number | undefined;

  constructor(store: PostgresConnection, options: OutboxOptions = {}) {
    this.#store = store;
    this.#pool = store.pool;
    this.#now = options.now ?? Date.now;
    this.#riskWaitMs = options.riskWaitMs;
  }

  async claim(req: ClaimRequest): Promise<ClaimedDelivery[]> {
    const now = this.#now();
    const token = `${req.workerId}/${randomBytes(6).toString('base64url')}`;
    const rows = await this.#query<Record<string, unknown>>(CLAIM, [
      req.sink,
      now,
      now + req.leaseMs,
      token,
      req.limit,
      assessedBy(now, this.#riskWaitMs),
    ]);
    return rows.map((r) => ({
      id: String(r.id),
      sink: String(r.sink),
      attempt: Number(r.attempts),
      leaseToken: token,
      createdAt: Number(r.created_at),
      source: toEventSource(r),
    }));
  }

  async complete(id: string, leaseToken: string): Promise<boolean> {
    const now = this.#now();
    const rows = await this.#query(
      `UPDATE deliveries SET status = 'delivered', delivered_at = $1, updated_at = $1, lease_until = NULL, lease_owner = NULL
       WHERE id = $2 AND lease_owner = $3 RETURNING id`,
      [now, id, leaseToken],
    );
    return rows.length === 1;
  }

  async fail(id: string, leaseToken: string, f: FailureRecord): Promise<boolean> {
    const rows = await this.#query(
      `UPDATE deliveries SET status = $1, next_attempt_at = $2, last_error = $3, last_status = $4, updated_at = $5,
         lease_until = NULL, lease_owner = NULL
       WHERE id = $6 AND lease_owner = $7 RETURNING id`,
      [
        f.dead ? 'dead' : 'failed',
        f.nextAttemptAt,
        f.error,
        f.httpStatus,
        this.#now(),
        id,
        leaseToken,
      ],
    );
    return rows.length === 1;
  }

  async list(q: DeliveryQuery): Promise<DeliverySummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (i: number) => string, v: unknown) => {
      params.push(v);
      where.push(sql(params.length));
    };
    if (q.status) add((i) => `d.status = $${i}`, q.status);
    if (q.sink) add((i) => `d.sink = $${i}`, q.sink);
    if (q.notificationId) add((i) => `d.notification_id = $${i}`, q.notificationId);
    if (q.before) {
      params.push(q.before.createdAt, q.before.id);
      where.push(`(d.created_at, d.id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(q.limit ?? 50);
    const rows = await this.#query<Record<string, unknown>>(
      `SELECT ${SUMMARY_COLUMNS} FROM deliveries d ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toDeliverySummary);
  }

  async retry(target: { id: string } | { dead: true; sink?: string }): Promise<number> {
    const set = `WITH r AS (UPDATE deliveries d SET status = 'pending', attempts = 0, next_attempt_at = $1, updated_at = $1,
                   lease_until = NULL, lease_owner = NULL`;
    const notify = `RETURNING 1) SELECT count(*) AS n, pg_notify('${OUTBOX_CHANNEL}', '') FROM r`;
    const now = this.#now();
    const rows =
      'id' in target
        ? await this.#query<{ n: string }>(
            `${set} WHERE d.id = $2 AND d.status IN ('failed', 'dead') AND (d.lease_until IS NULL OR d.lease_until <= $1)
               AND ${NO_OPEN_SIBLING} ${notify}`,
            [now, target.id],
          )
        : await this.#query<{ n: string }>(
            `${set} WHERE d.status = 'dead' AND ($2::text IS NULL OR d.sink = $2) AND ${NO_OPEN_SIBLING} ${notify}`,
            [now, target.sink ?? null],
          );
    return Number(rows[0]?.n ?? 0);
  }

  replay(sink: string, since: number): Promise<number> {
    return inTransaction(this.#pool, 'PostgreSQL replay failed', async (client) => {
      const now = this.#now();
      const ids = (
        await client.query<{ id: string }>(
          `SELECT n.id FROM notifications n
           WHERE n.status = 'accepted' AND n.received_at >= $1
             AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.notification_id = n.id AND o.sink = $2 AND o.event = 'enrollment'
                             AND o.status IN ('pending', 'failed'))
           ORDER BY n.received_at, n.id`,
          [since, sink],
        )
      ).rows.map((r) => r.id);
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        await client.query(
          `INSERT INTO deliveries (id, notification_id, sink, origin, status, attempts, next_attempt_at, created_at, updated_at)
           SELECT x.id, x.nid, $1, 'replay', 'pending', 0, $2, $2, $2 FROM unnest($3::text[], $4::text[]) AS x(id, nid)`,
          [sink, now, chunk.map(() => uuidV7(now)), chunk],
        );
      }
      if (ids.length > 0) await client.query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`);
      return ids.length;
    });
  }

  async disableSink(name: string, reason: string): Promise<void> {
    await this.#query(
      `INSERT INTO sink_states (name, disabled_at, disabled_reason, updated_at) VALUES ($1, $2, $3, $2)
       ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason,
         updated_at = excluded.updated_at`,
      [name, this.#now(), reason],
    );
  }

  async enableSink(name: string): Promise<boolean> {
    const rows = await this.#query(
      `UPDATE sink_states SET disabled_at = NULL, disabled_reason = NULL, updated_at = $1 WHERE name = $2 AND disabled_at IS NOT NULL
       RETURNING name`,
      [this.#now(), name],
    );
    if (rows.length === 1) await this.#query(`SELECT pg_notify('${OUTBOX_CHANNEL}', '')`, []);
    return rows.length === 1;
  }

  async sinkStates(): Promise<SinkState[]> {
    const rows = await this.#query<Record<string, unknown>>(
      'SELECT name, disabled_at, disabled_reason FROM sink_states ORDER BY name',
      [],
    );
    return rows.map((r) => ({
      name: String(r.name),
      disabledAt: r.disabled_at == null ? null : Number(r.disabled_at),
      disabledReason: (r.disabled_reason as string | null) ?? null,
    }));
  }

  async stats(): Promise<OutboxStats[]> {
    const rows = await this.#query<Record<string, unknown>>(
      `SELECT sink, status, count(*) AS count, min(created_at) AS oldest FROM deliveries
       WHERE status IN ('pending', 'failed', 'dead') GROUP BY sink, status ORDER BY sink, status`,
      [],
    );
    return rows.map((r) => ({
      sink: String(r.sink),
      status: r.status as OutboxStats['status'],
      count: Number(r.count),
      oldestCreatedAt: Number(r.oldest),
    }));
  }

  async deliveredSince(since: number): Promise<DeliveredCount[]> {
    const rows = await this.#query<Record<string, unknown>>(
      "SELECT sink, count(*) AS count FROM deliveries WHERE created_at >= $1 AND status = 'delivered' GROUP BY sink",
      [since],
    );
    return rows.map((r) => ({ sink: String(r.sink), count: Number(r.count) }));
  }

  /**
   * Holds a dedicated connection (outside the pool) in LISTEN. If it breaks, another is opened
   * after a second; while it is down the worker's poll still finds everything, only later.
   */
  async watch(
    onQueued: () => void,
    onError: (error: unknown) => void = () => {},
  ): Promise<{ close(): Promise<void> }> {
    let closed = false;
    let client: pg.Client | undefined;
    let timer: NodeJS.Timeout | undefined;
    const retryLater = () => {
      if (!closed) timer = setTimeout(() => void start(), 1000);
    };
    const start = async (): Promise<void> => {
      const c = this.#store.newClient(LISTENER_NAME);
      let lost = false;
      const drop = (error: unknown) => {
        if (lost || closed) return;
        lost = true;
        onError(error);
        if (client === c) client = undefined;
        void c.end().catch(() => {});
        retryLater();
      };
      c.on('error', drop);
      c.on('notification', (m) => {
        if (m.channel === OUTBOX_CHANNEL) onQueued();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${OUTBOX_CHANNEL}`);
      } catch (error) {
        return drop(error);
      }
      if (closed) return void c.end().catch(() => {});
      client = c;
      // The server closing the connection ends it without an 'error' on some paths.
      c.on('end', () => drop(new Error('LISTEN connection ended')));
      onQueued(); // anything queued while nobody was listening
    };
    await start();
    return {
      close: async () => {
        closed = true;
        clearTimeout(timer);
        const c = client;
        client = undefined;
        await c?.end().catch(() => {});
      },
    };
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (cause) {
      throw new StorageError('PostgreSQL query failed', { cause });
    }
  }
}
