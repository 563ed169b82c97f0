import type { IssuerScope } from '../domain/issuer-scope.js';
import type { NotificationStatus } from '../domain/notification-statuses.js';
import { StorageError } from '../errors.js';
import { NotificationQueries } from './notification-queries.js';
import type {
  ListQuery,
  NotificationRecord,
  NotificationSummary,
  QuarantinedNotification,
  RecordOutcome,
} from './notification-record.js';
import {
  PURGE_ALERTS,
  PURGE_SET,
  PURGEABLE,
  QUARANTINED_COLUMNS,
  RECORD_COLUMNS,
  recordValues,
  toQuarantined,
  UPDATABLE_COLUMNS,
} from './row-mapping.js';
import type { SqlDriver } from './sql-driver.js';
import { SqlFilter } from './sql-filter.js';
import { all, run, type SqlScript } from './sql-script.js';

// No RETURNING: the rows changed say whether the row went in (SQLite keeps no RETURNING buffer).
const INSERT = `INSERT INTO notifications (${RECORD_COLUMNS.join(', ')})
  VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (dedup_key) DO NOTHING`;
// A Visa retry of a stored notification: counted; on PostgreSQL the row stays locked for a
// possible promotion (ON CONFLICT waited for the conflicting row's commit).
const BUMP_RETURNING = `UPDATE notifications SET visa_attempts = visa_attempts + 1, updated_at = ?
  WHERE dedup_key = ? RETURNING id, status`;
const BUMP =
  'UPDATE notifications SET visa_attempts = visa_attempts + 1, updated_at = ? WHERE dedup_key = ?';
const UPDATE_QUARANTINED = `UPDATE notifications SET ${UPDATABLE_COLUMNS.map((c) => `${c} = ?`).join(', ')}, purged_at = NULL
  WHERE id = ? AND status = 'quarantined' RETURNING id, status`;

/** What the notifications' statements need of a dialect. */
export interface NotificationsDialect {
  /**
   * Queues one pending delivery per sink for an accepted notification, due `holdMs` from `now`,
   * inside the script's transaction (PostgreSQL also notifies waiting workers at commit).
   */
  enqueueDeliveries(
    notificationId: string,
    sinks: readonly string[],
    now: number,
    holdMs: number,
  ): SqlScript<void>;
  /**
   * The lock a purge batch takes on the rows it picks (`FOR UPDATE` on PostgreSQL, so that
   * two purging instances queue on the rows; nothing on SQLite, whose writer is alone).
   */
  readonly purgeRowLock: string;
}

/** Options of {@link SqlNotifications}, from the store's. */
export interface SqlNotificationsOptions {
  /** Every issuer's sinks. */
  sinks: readonly string[];
  /** Each issuer's own sinks, by issuer id. */
  issuerSinks: ReadonlyMap<string, readonly string[]>;
  holdMs: number;
  now: () => number;
  onDeliveriesQueued: (() => void) | undefined;
}

/**
 * The notifications part of `NotificationStore`, written once over a {@link SqlDriver}: each
 * write is one transaction script (SQLite: in the group commit, durable; PostgreSQL: on one
 * client), the outbox rows in the notification's own transaction (no dual write).
 */
export class SqlNotifications {
  constructor(
    private readonly sql: SqlDriver,
    private readonly dialect: NotificationsDialect,
    private readonly o: SqlNotificationsOptions,
  ) {}

  record(rec: NotificationRecord): Promise<RecordOutcome> {
    const self = this;
    return this.#afterCommit(
      this.sql.transaction(function* (): SqlScript<RecordOutcome> {
        const now = self.o.now();
        if ((yield* run(INSERT, recordValues(rec, now, Boolean))) === 1) {
          if (rec.status === 'accepted') yield* self.#enqueue(rec.id, rec.issuer, now);
          return { id: rec.id, status: rec.status, result: 'inserted' };
        }
        const [existing] = yield* all<{ id: string; status: NotificationStatus }>(BUMP_RETURNING, [
          now,
          rec.dedupKey,
        ]);
        if (existing === undefined) throw new StorageError('notification vanished during a retry');
        if (existing.status === 'quarantined') {
          const promoted = yield* self.#updateQuarantined({ ...rec, id: existing.id }, now);
          if (promoted !== undefined) return promoted;
        }
        return { id: existing.id, status: existing.status, result: 'duplicate' };
      }),
      rec.issuer,
    );
  }

  updateQuarantined(rec: NotificationRecord): Promise<RecordOutcome> {
    const self = this;
    return this.#afterCommit(
      this.sql.transaction(function* (): SqlScript<RecordOutcome> {
        const outcome = yield* self.#updateQuarantined(rec, self.o.now());
        if (outcome === undefined) throw new StorageError('notification is not quarantined');
        return outcome;
      }),
      rec.issuer,
    );
  }

  async purge(
    before: number,
    batchSize = 500,
    onBatch?: (purged: number) => void,
  ): Promise<number> {
    let total = 0;
    const batch = `UPDATE notifications SET ${PURGE_SET}, purged_at = ?, updated_at = ?
      WHERE id IN (SELECT id FROM notifications WHERE received_at < ? AND ${PURGEABLE}
                   ORDER BY received_at LIMIT ?${this.dialect.purgeRowLock})`;
    for (;;) {
      // One short transaction per batch: Visa's writes queue behind a batch, never the purge.
      const now = this.o.now();
      const n = await this.sql.run(batch, [now, now, before, batchSize]);
      total += n;
      onBatch?.(total);
      if (n < batchSize) break;
    }
    await this.sql.run(PURGE_ALERTS.replace('$BEFORE', '?'), [before]);
    return total;
  }

  async findByDedupKey(
    dedupKey: string,
  ): Promise<{ id: string; status: NotificationStatus } | undefined> {
    const [r] = await this.sql.all<{ id: string; status: NotificationStatus }>(
      'SELECT id, status FROM notifications WHERE dedup_key = ?',
      [dedupKey],
    );
    return r;
  }

  async countRetry(dedupKey: string): Promise<void> {
    await this.sql.run(BUMP, [this.o.now(), dedupKey]);
  }

  /** The console's listing (`NotificationQueries.search`): one query lists notifications. */
  list(query: ListQuery): Promise<NotificationSummary[]> {
    return new NotificationQueries(this.sql).search({ ...query, limit: query.limit ?? 50 });
  }

  async listQuarantined(
    scope: IssuerScope,
    limit: number,
    afterId = '',
  ): Promise<QuarantinedNotification[]> {
    const filter = new SqlFilter();
    filter.add("status = 'quarantined' AND purged_at IS NULL AND id > ?", afterId);
    filter.scope('issuer', scope);
    const rows = await this.sql.all(
      `SELECT ${QUARANTINED_COLUMNS} FROM notifications ${filter.where} ORDER BY id LIMIT ?`,
      filter.params(limit),
    );
    return rows.map(toQuarantined);
  }

  /** One outbox row per sink of the notification's issuer: every issuer's, then its own. */
  *#enqueue(id: string, issuer: string, now: number): SqlScript<void> {
    const sinks = this.#sinksOf(issuer);
    if (sinks.length > 0) yield* this.dialect.enqueueDeliveries(id, sinks, now, this.o.holdMs);
  }

  #sinksOf(issuer: string): readonly string[] {
    const own = this.o.issuerSinks.get(issuer);
    return own === undefined || own.length === 0 ? this.o.sinks : [...this.o.sinks, ...own];
  }

  *#updateQuarantined(rec: NotificationRecord, now: number): SqlScript<RecordOutcome | undefined> {
    const values = recordValues(rec, now, Boolean);
    const byColumn = new Map(RECORD_COLUMNS.map((c, i) => [c as string, values[i]]));
    const [row] = yield* all<{ id: string; status: NotificationStatus }>(UPDATE_QUARANTINED, [
      ...UPDATABLE_COLUMNS.map((c) => byColumn.get(c)),
      rec.id,
    ]);
    if (row === undefined) return undefined;
    if (row.status === 'accepted') yield* this.#enqueue(row.id, rec.issuer, now);
    return {
      id: row.id,
      status: row.status,
      result: rec.status === 'accepted' ? 'promoted' : 'duplicate',
    };
  }

  /** Tells an in-process worker that deliveries were committed, so it need not wait for its poll. */
  async #afterCommit(write: Promise<RecordOutcome>, issuer: string): Promise<RecordOutcome> {
    const outcome = await write;
    if (
      (outcome.result === 'inserted' || outcome.result === 'promoted') &&
      outcome.status === 'accepted' &&
      this.#sinksOf(issuer).length > 0
    )
      this.o.onDeliveriesQueued?.();
    return outcome;
  }
}
