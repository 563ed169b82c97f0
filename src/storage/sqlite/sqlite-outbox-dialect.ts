import { uuidV7 } from '../../util/uuid-v7.js';
import { claimableCondition } from '../outbox-claim.js';
import { type ClaimParams, type OutboxDialect, positional } from '../outbox-dialect.js';
import { ALERT_FACT_COLUMNS, ANSWER_JOIN, EVENT_SOURCE_COLUMNS } from '../outbox-row-mapping.js';
import type { SqlDriver } from '../sql-driver.js';
import type { NotificationsDialect } from '../sql-notifications.js';
import { all, run } from '../sql-script.js';

/**
 * The notifications' SQLite part: an accepted notification's deliveries, one row per sink in one
 * statement, due `holdMs` from now (the wait for its risk assessment, which makes them due
 * earlier: outbox-claim.ts), in the notification's own transaction (and, after a failed batch,
 * its savepoint).
 */
export const sqliteNotificationsDialect: NotificationsDialect = {
  *enqueueDeliveries(notificationId, sinks, now, holdMs) {
    yield* run(
      `INSERT INTO deliveries (id, notification_id, sink, origin, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES ${sinks.map(() => "(?, ?, ?, 'accepted', 'pending', 0, ?, ?, ?)").join(', ')}`,
      sinks.flatMap((sink) => [uuidV7(now), notificationId, sink, now + holdMs, now, now]),
    );
  },
  purgeRowLock: '',
};

const LEASE = (where: string) =>
  `UPDATE deliveries SET lease_until = ?, lease_owner = ?, attempts = attempts + 1, updated_at = ?
     WHERE id IN (SELECT d.id FROM deliveries d WHERE ${where} ORDER BY d.next_attempt_at, d.id LIMIT ?)
     RETURNING id`;

const CLAIMED = `SELECT d.id, d.kind, d.sink, d.attempts, d.created_at, ${EVENT_SOURCE_COLUMNS}, ${ALERT_FACT_COLUMNS}
  FROM deliveries d JOIN notifications n ON n.id = d.notification_id ${ANSWER_JOIN('d')}
  WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.next_attempt_at, d.id`;

/**
 * The outbox's SQLite part. There is no `SKIP LOCKED` here: a claim is an UPDATE inside an
 * IMMEDIATE transaction, which holds SQLite's single write lock, so two claims never see the
 * same row as free. One worker per database is the supported layout (docs/delivery.md). Claims
 * commit without fsync (decision 0044).
 */
export function sqliteOutboxDialect(sql: SqlDriver): OutboxDialect {
  return {
    claim(p: ClaimParams) {
      const where = positional(claimableCondition, p);
      const lease = LEASE(where.sql);
      return sql.transaction(
        function* () {
          const ids = yield* all<{ id: string }>(lease, [
            p.until,
            p.token,
            p.now,
            ...where.params,
            p.limit,
          ]);
          if (ids.length === 0) return [];
          return yield* all(CLAIMED, [JSON.stringify(ids.map((r) => r.id))]);
        },
        { durable: false },
      );
    },
    async watch() {
      return { close: async () => {} };
    },
  };
}
