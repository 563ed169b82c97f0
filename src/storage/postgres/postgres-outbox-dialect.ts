import type pg from 'pg';
import { uuidV7 } from '../../util/uuid-v7.js';
import { claimableCondition } from '../outbox-claim.js';
import { type ClaimParams, type OutboxDialect, positional } from '../outbox-dialect.js';
import { ALERT_FACT_COLUMNS, ANSWER_JOIN, EVENT_SOURCE_COLUMNS } from '../outbox-row-mapping.js';
import type { SqlDriver } from '../sql-driver.js';
import type { NotificationsDialect } from '../sql-notifications.js';
import { all, run } from '../sql-script.js';

/** application_name of the LISTEN connection (pg_stat_activity). */
export const LISTENER_NAME = 'ctp-notify-outbox-listen';

/** LISTEN/NOTIFY channel: a commit that queued deliveries wakes idle workers in other processes. */
export const OUTBOX_CHANNEL = 'ctp_notify_outbox';

/**
 * The notifications' PostgreSQL part. Enqueueing is one statement: the pending rows (one per
 * sink, due `holdMs` from now: the wait for the risk assessment, outbox-claim.ts) and, when they
 * are due at once, a NOTIFY, which PostgreSQL delivers only at commit (and not at all on
 * rollback), so a woken worker always finds the rows. A purge batch locks its rows (`FOR UPDATE`, in received_at order) so that two
 * instances purging at once queue on them rather than skip rows a writer briefly holds.
 */
export const postgresNotificationsDialect: NotificationsDialect = {
  *enqueueDeliveries(notificationId, sinks, now, holdMs) {
    const values = [notificationId, now + holdMs, now, now, sinks.map(() => uuidV7(now)), sinks];
    const insert = `INSERT INTO deliveries (id, notification_id, sink, origin, status, attempts, next_attempt_at, created_at, updated_at)
       SELECT x.id, ?, x.sink, 'accepted', 'pending', 0, ?, ?, ? FROM unnest(?::text[], ?::text[]) AS x(id, sink)`;
    // Held for the assessment: nobody can claim them yet, and the assessment's commit wakes the
    // workers when it releases them. A NOTIFY here would wake them for nothing, and takes
    // PostgreSQL's one notification-queue lock at every acceptance's commit.
    if (holdMs > 0) yield* run(insert, values);
    else
      yield* all(
        `WITH d AS (${insert} RETURNING 1)
         SELECT pg_notify('${OUTBOX_CHANNEL}', '') FROM (SELECT count(*) AS n FROM d) c WHERE c.n > 0`,
        values,
      );
  },
  purgeRowLock: ' FOR UPDATE',
};

const CLAIM = (where: string) => `WITH claimed AS (
    UPDATE deliveries SET lease_until = ?, lease_owner = ?, attempts = deliveries.attempts + 1, updated_at = ?
    WHERE id IN (
      SELECT d.id FROM deliveries d WHERE ${where}
      ORDER BY d.next_attempt_at, d.id
      LIMIT ?
      FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, sink, attempts, created_at, next_attempt_at, notification_id, alert_id)
  SELECT c.id, c.kind, c.sink, c.attempts, c.created_at, ${EVENT_SOURCE_COLUMNS}, ${ALERT_FACT_COLUMNS}
  FROM claimed c JOIN notifications n ON n.id = c.notification_id ${ANSWER_JOIN('c')}
  ORDER BY c.next_attempt_at, c.id`;

/**
 * The outbox's PostgreSQL part. Several workers (processes or machines) claim concurrently:
 * `FOR UPDATE SKIP LOCKED` hands each due row to one of them, in one statement (one round trip),
 * and the lease (`lease_until`) lets another take it over if its worker dies. `newClient` opens a
 * connection outside the pool, for LISTEN.
 */
export function postgresOutboxDialect(
  sql: SqlDriver,
  newClient: (applicationName: string) => pg.Client,
): OutboxDialect {
  return {
    claim(p: ClaimParams) {
      const where = positional(claimableCondition, p);
      return sql.all(CLAIM(where.sql), [p.until, p.token, p.now, ...where.params, p.limit]);
    },
    /**
     * Holds a dedicated connection (outside the pool) in LISTEN. If it breaks, another is opened
     * after a second; while it is down the worker's poll still finds everything, only later.
     */
    async watch(onQueued, onError) {
      let closed = false;
      let client: pg.Client | undefined;
      let timer: NodeJS.Timeout | undefined;
      const retryLater = () => {
        if (!closed) timer = setTimeout(() => void start(), 1000);
      };
      const start = async (): Promise<void> => {
        const c = newClient(LISTENER_NAME);
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
    },
  };
}
