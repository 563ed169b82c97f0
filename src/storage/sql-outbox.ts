import { randomBytes } from 'node:crypto';
import type { IssuerScope } from '../domain/issuer-scope.js';
import { uuidV7 } from '../util/uuid-v7.js';
import {
  ADOPT_PENDING_ALERTS,
  ALERT_LEASED_BY_OUTBOX,
  assessedBy,
  LEASE_ADOPTED_ALERTS,
  NO_OPEN_SIBLING,
} from './outbox-claim.js';
import type { OutboxDialect } from './outbox-dialect.js';
import { SUMMARY_COLUMNS, toClaimedDelivery, toDeliverySummary } from './outbox-row-mapping.js';
import type {
  ClaimedDelivery,
  ClaimRequest,
  DeliveredCount,
  DeliveryQuery,
  DeliverySummary,
  FailureRecord,
  OutboxOptions,
  OutboxOutcome,
  OutboxStats,
  OutboxStore,
  RetryTarget,
  SinkState,
} from './outbox-store.js';
import type { SqlDriver } from './sql-driver.js';
import { SqlFilter } from './sql-filter.js';
import { all, outboxQueued, run } from './sql-script.js';

/**
 * The worker's own writes (claims and outcomes) commit without waiting for fsync (decision
 * 0044): losing one to a power cut means a delivery made again, which at-least-once delivery
 * allows (receivers deduplicate on the event id). The deliveries themselves are written with
 * their notification, durably; operators' commands (retry, replay, sinks) stay durable.
 */
const NOT_DURABLE = { durable: false } as const;

/** The delivered messages of one claim (one lease token), ids as `?` placeholders. */
const DELIVERED = (
  ids: string,
) => `UPDATE deliveries SET status = 'delivered', delivered_at = ?, updated_at = ?,
    lease_until = NULL, lease_owner = NULL
  WHERE lease_owner = ? AND id IN (${ids}) RETURNING id`;
const FAILED = `UPDATE deliveries SET status = ?, next_attempt_at = ?, last_error = ?, last_status = ?, updated_at = ?,
    lease_until = NULL, lease_owner = NULL
  WHERE id = ? AND lease_owner = ?`;
// The alert of an alert message follows its message: sent (its recipient dropped: kept no longer
// than needed), dead, or pending again when an operator retries it. Only a pending alert moves:
// one an old release's sender already sent stays sent.
const ALERTS_SENT = (
  ids: string,
) => `UPDATE risk_alerts SET status = 'sent', sent_at = ?, last_error = NULL,
    recipient_ciphertext = NULL, data_key_id = NULL
  WHERE id IN (${ids}) AND status = 'pending'`;
const ALERT_DEAD = `UPDATE risk_alerts SET status = 'dead', last_error = ? WHERE id = ? AND status = 'pending'`;
const RELEASE = (ids: string) => `UPDATE deliveries SET lease_until = NULL, lease_owner = NULL,
    attempts = attempts - 1
  WHERE lease_owner = ? AND id IN (${ids})`;
/** Ids per statement of a batch: well under either dialect's parameter limit. */
const ID_CHUNK = 500;
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const ALERTS_RETRIED = `UPDATE risk_alerts SET status = 'pending', lease_until = ${ALERT_LEASED_BY_OUTBOX}
  WHERE status = 'dead' AND EXISTS (SELECT 1 FROM deliveries d
    WHERE d.alert_id = risk_alerts.id AND d.kind = 'alert' AND d.status = 'pending')`;
const RETRY = `UPDATE deliveries AS d SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?,
    lease_until = NULL, lease_owner = NULL`;
/** Accepted notifications of the scope since a time without an open delivery to the sink. */
function replayable(sink: string, since: number, scope: IssuerScope): [string, unknown[]] {
  const filter = new SqlFilter();
  filter.add("n.status = 'accepted' AND n.received_at >= ?", since);
  filter.add(
    `NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.notification_id = n.id AND o.sink = ? AND o.event = 'enrollment'
                 AND o.status IN ('pending', 'failed'))`,
    sink,
  );
  filter.scope('n.issuer', scope);
  return [
    `SELECT n.id FROM notifications n ${filter.where} ORDER BY n.received_at, n.id`,
    filter.params(),
  ];
}
/** Rows per INSERT of a replay: 9 values each, well under either dialect's parameter limit. */
const REPLAY_CHUNK = 500;

/**
 * The outbox (`OutboxStore`), written once over a {@link SqlDriver}: the table is the queue,
 * the lease (`lease_until`, `lease_owner`) both the lock and the fencing token. What differs per
 * dialect (claiming among concurrent workers, waking other processes) is the
 * {@link OutboxDialect}'s. It shares the notification store's connection or pool.
 */
export class SqlOutbox implements OutboxStore {
  readonly #sql: SqlDriver;
  readonly #dialect: OutboxDialect;
  readonly #now: () => number;
  readonly #riskWaitMs: number | undefined;

  constructor(sql: SqlDriver, dialect: OutboxDialect, options: OutboxOptions = {}) {
    this.#sql = sql;
    this.#dialect = dialect;
    this.#now = options.now ?? Date.now;
    this.#riskWaitMs = options.riskWaitMs;
  }

  async claim(req: ClaimRequest): Promise<ClaimedDelivery[]> {
    const token = `${req.workerId}/${randomBytes(6).toString('base64url')}`;
    const now = this.#now();
    const rows = await this.#dialect.claim({
      sink: req.sink,
      now,
      until: now + req.leaseMs,
      token,
      limit: req.limit,
      assessedBy: assessedBy(now, this.#riskWaitMs),
    });
    return rows.map((r) => toClaimedDelivery(r, token));
  }

  record(outcomes: readonly OutboxOutcome[]): Promise<boolean[]> {
    if (outcomes.length === 0) return Promise.resolve([]);
    const now = this.#now();
    return this.#sql.transaction(function* () {
      // Keyed by lease too: a stale holder's outcome for a row another worker now holds.
      const key = (id: string, leaseToken: string) => `${leaseToken} ${id}`;
      const kept = new Set<string>();
      // Delivered: one statement per claim, whose messages share its lease token.
      const byLease = new Map<string, string[]>();
      for (const o of outcomes)
        if (o.failure === undefined) {
          const ids = byLease.get(o.leaseToken) ?? [];
          ids.push(o.id);
          byLease.set(o.leaseToken, ids);
        }
      for (const [token, ids] of byLease)
        for (let i = 0; i < ids.length; i += ID_CHUNK) {
          const chunk = ids.slice(i, i + ID_CHUNK);
          const rows = yield* all<{ id: string }>(DELIVERED(placeholders(chunk.length)), [
            now,
            now,
            token,
            ...chunk,
          ]);
          for (const r of rows) kept.add(key(r.id, token));
        }
      // Failures are the exception, and each has its own error and next attempt.
      for (const o of outcomes) {
        const f = o.failure;
        if (f === undefined) continue;
        const n = yield* run(FAILED, [
          f.dead ? 'dead' : 'failed',
          f.nextAttemptAt,
          f.error,
          f.httpStatus,
          now,
          o.id,
          o.leaseToken,
        ]);
        if (n !== 1) continue;
        kept.add(key(o.id, o.leaseToken));
        if (f.dead && o.alertId !== undefined) yield* run(ALERT_DEAD, [f.error, o.alertId]);
      }
      const sent = outcomes.flatMap((o) =>
        o.failure === undefined && o.alertId !== undefined && kept.has(key(o.id, o.leaseToken))
          ? [o.alertId]
          : [],
      );
      for (let i = 0; i < sent.length; i += ID_CHUNK) {
        const chunk = sent.slice(i, i + ID_CHUNK);
        yield* run(ALERTS_SENT(placeholders(chunk.length)), [now, ...chunk]);
      }
      return outcomes.map((o) => kept.has(key(o.id, o.leaseToken)));
    }, NOT_DURABLE);
  }

  async release(leaseToken: string, ids: readonly string[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const chunk = ids.slice(i, i + ID_CHUNK);
      n += await this.#sql.run(
        RELEASE(placeholders(chunk.length)),
        [leaseToken, ...chunk],
        NOT_DURABLE,
      );
    }
    return n;
  }

  async complete(id: string, leaseToken: string, alertId?: string): Promise<boolean> {
    return (await this.record([{ id, leaseToken, alertId }]))[0]!;
  }

  async fail(
    id: string,
    leaseToken: string,
    failure: FailureRecord,
    alertId?: string,
  ): Promise<boolean> {
    return (await this.record([{ id, leaseToken, alertId, failure }]))[0]!;
  }

  async list(q: DeliveryQuery): Promise<DeliverySummary[]> {
    const filter = new SqlFilter();
    // A delivery is its notification's issuer's.
    filter.scope('n.issuer', q.scope);
    if (q.id) filter.add('d.id = ?', q.id);
    if (q.kind) filter.add('d.kind = ?', q.kind);
    if (q.status) filter.add('d.status = ?', q.status);
    if (q.sink) filter.add('d.sink = ?', q.sink);
    if (q.notificationId) filter.add('d.notification_id = ?', q.notificationId);
    // A row value: PostgreSQL walks deliveries_created from the cursor on (SQLite has them too).
    if (q.before) filter.add('(d.created_at, d.id) < (?, ?)', q.before.createdAt, q.before.id);
    const rows = await this.#sql.all(
      `SELECT ${SUMMARY_COLUMNS}, n.issuer FROM deliveries d
       JOIN notifications n ON n.id = d.notification_id ${filter.where}
       ORDER BY d.created_at DESC, d.id DESC LIMIT ?`,
      filter.params(q.limit ?? 50),
    );
    return rows.map(toDeliverySummary);
  }

  retry(target: RetryTarget): Promise<number> {
    const now = this.#now();
    const where: string[] = [];
    const params: unknown[] = [];
    if ('id' in target) {
      where.push(
        `d.id = ? AND d.status IN ('failed', 'dead') AND (d.lease_until IS NULL OR d.lease_until <= ?)`,
      );
      params.push(target.id, now);
    } else {
      // Dead alerts are retried only when asked for by kind: a routine "retry every dead
      // delivery" after a sink's outage must not send stale "was this you?" messages.
      where.push(`d.status = 'dead'`, 'd.kind = ?');
      params.push(target.kind ?? 'event');
      if (target.sink !== undefined) where.push('d.sink = ?') && params.push(target.sink);
    }
    const scoped = new SqlFilter();
    scoped.scope('issuer', target.scope);
    if (scoped.where !== '') {
      where.push(`d.notification_id IN (SELECT id FROM notifications ${scoped.where})`);
      params.push(...scoped.params());
    }
    const update = `${RETRY} WHERE ${where.join(' AND ')} AND ${NO_OPEN_SIBLING}`;
    return this.#sql.transaction(function* () {
      const n = yield* run(update, [now, now, ...params]);
      if (n > 0) {
        yield* run(ALERTS_RETRIED);
        yield* outboxQueued();
      }
      return n;
    });
  }

  replay(sink: string, since: number, scope: IssuerScope): Promise<number> {
    const now = this.#now();
    const [select, params] = replayable(sink, since, scope);
    return this.#sql.transaction(function* () {
      const ids = (yield* all<{ id: string }>(select, params)).map((r) => r.id);
      for (let i = 0; i < ids.length; i += REPLAY_CHUNK) {
        const chunk = ids.slice(i, i + REPLAY_CHUNK);
        yield* run(
          `INSERT INTO deliveries (id, notification_id, sink, origin, status, attempts, next_attempt_at, created_at, updated_at)
           VALUES ${chunk.map(() => "(?, ?, ?, 'replay', 'pending', 0, ?, ?, ?)").join(', ')}`,
          chunk.flatMap((id) => [uuidV7(now), id, sink, now, now, now]),
        );
      }
      if (ids.length > 0) yield* outboxQueued();
      return ids.length;
    });
  }

  adoptPendingAlerts(): Promise<number> {
    const now = this.#now();
    return this.#sql.transaction(function* () {
      const n = yield* run(ADOPT_PENDING_ALERTS, [now]);
      if (n > 0) {
        yield* run(LEASE_ADOPTED_ALERTS);
        yield* outboxQueued();
      }
      return n;
    });
  }

  async disableSink(name: string, reason: string): Promise<void> {
    const now = this.#now();
    await this.#sql.run(
      `INSERT INTO sink_states (name, disabled_at, disabled_reason, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason,
         updated_at = excluded.updated_at`,
      [name, now, reason, now],
    );
  }

  enableSink(name: string): Promise<boolean> {
    const now = this.#now();
    return this.#sql.transaction(function* () {
      const n = yield* run(
        'UPDATE sink_states SET disabled_at = NULL, disabled_reason = NULL, updated_at = ? WHERE name = ? AND disabled_at IS NOT NULL',
        [now, name],
      );
      if (n === 1) yield* outboxQueued();
      return n === 1;
    });
  }

  async sinkStates(): Promise<SinkState[]> {
    const rows = await this.#sql.all(
      'SELECT name, disabled_at, disabled_reason FROM sink_states ORDER BY name',
    );
    return rows.map((r) => ({
      name: String(r.name),
      disabledAt: r.disabled_at == null ? null : Number(r.disabled_at),
      disabledReason: (r.disabled_reason as string | null) ?? null,
    }));
  }

  async stats(scope: IssuerScope): Promise<OutboxStats[]> {
    const filter = new SqlFilter();
    filter.add("d.status IN ('pending', 'failed', 'dead')");
    filter.scope('n.issuer', scope);
    const rows = await this.#sql.all(
      `SELECT d.sink, d.status, count(*) AS count, min(d.created_at) AS oldest FROM deliveries d
       ${'all' in scope ? '' : 'JOIN notifications n ON n.id = d.notification_id'}
       ${filter.where} GROUP BY d.sink, d.status ORDER BY d.sink, d.status`,
      filter.params(),
    );
    return rows.map((r) => ({
      sink: String(r.sink),
      status: r.status as OutboxStats['status'],
      count: Number(r.count),
      oldestCreatedAt: Number(r.oldest),
    }));
  }

  async deliveredSince(since: number, scope: IssuerScope): Promise<DeliveredCount[]> {
    const filter = new SqlFilter();
    filter.add("d.created_at >= ? AND d.status = 'delivered'", since);
    filter.scope('n.issuer', scope);
    const rows = await this.#sql.all(
      `SELECT d.sink, count(*) AS count FROM deliveries d
       ${'all' in scope ? '' : 'JOIN notifications n ON n.id = d.notification_id'}
       ${filter.where} GROUP BY d.sink`,
      filter.params(),
    );
    return rows.map((r) => ({ sink: String(r.sink), count: Number(r.count) }));
  }

  watch(
    onQueued: () => void,
    onError: (error: unknown) => void = () => {},
  ): Promise<{ close(): Promise<void> }> {
    return this.#dialect.watch(onQueued, onError);
  }
}
