import { ALERT_DESTINATION } from './outbox-store.js';

/**
 * The one definition of a claimable delivery, shared by both dialects' claim queries: due, not
 * leased, its sink enabled, and its notification risk-assessed or older than the risk wait. A
 * new condition goes here and nowhere else. `p` renders a named parameter in the dialect's
 * syntax; the deliveries table is aliased `d`; the parameters are `sink`, `now` and `assessedBy`.
 */
export function claimableCondition(p: (name: 'sink' | 'now' | 'assessedBy') => string): string {
  return `d.sink = ${p('sink')}
    AND d.status IN ('pending', 'failed')
    AND d.next_attempt_at <= ${p('now')}
    AND (d.lease_until IS NULL OR d.lease_until <= ${p('now')})
    AND NOT EXISTS (SELECT 1 FROM sink_states s WHERE s.name = d.sink AND s.disabled_at IS NOT NULL)
    AND (EXISTS (SELECT 1 FROM risk_assessments r WHERE r.notification_id = d.notification_id)
         OR EXISTS (SELECT 1 FROM notifications w WHERE w.id = d.notification_id AND w.received_at <= ${p('assessedBy')}))`;
}

/**
 * The `assessedBy` bound of the claim: a delivery waits for its notification's risk assessment
 * (so the event carries `risk`) unless the notification arrived at or before this time.
 * `riskWaitMs` undefined (risk assessment off): nothing waits.
 */
export function assessedBy(now: number, riskWaitMs: number | undefined): number {
  return riskWaitMs === undefined ? Number.MAX_SAFE_INTEGER : now - riskWaitMs;
}

/**
 * Retryable rows whose notification has no other open delivery of the same event to the same
 * sink.
 */
export const NO_OPEN_SIBLING = `NOT EXISTS (
    SELECT 1 FROM deliveries o
    WHERE o.notification_id = d.notification_id AND o.sink = d.sink AND o.event = d.event AND o.id <> d.id
      AND o.status IN ('pending', 'failed'))`;

/**
 * Makes a notification's first deliveries due at once when its assessment is saved (in the same
 * transaction). They were written due `deliveryHoldMs` after acceptance, so that a claim's scan
 * of due rows (the `deliveries_due` index) never passes over deliveries still waiting for their
 * assessment: under load those are the newest thousands, and every claim used to walk them. The
 * parameters, in order: the assessment time, the notification id, the assessment time.
 */
export function releaseAfterAssessment(p: (i: 1 | 2 | 3) => string): string {
  return `UPDATE deliveries SET next_attempt_at = ${p(1)}
    WHERE notification_id = ${p(2)} AND status = 'pending' AND attempts = 0 AND next_attempt_at > ${p(3)}`;
}

/**
 * Queues the alert message of an alert written with its assessment (same transaction), due at
 * once. The parameters, in order: the delivery id, the notification id, the time (three times),
 * the alert id.
 */
export function enqueueAlert(p: (i: 1 | 2 | 3 | 4 | 5 | 6) => string): string {
  return `INSERT INTO deliveries (id, notification_id, sink, origin, status, attempts, next_attempt_at, created_at,
      updated_at, event, alert_id, kind)
    VALUES (${p(1)}, ${p(2)}, '${ALERT_DESTINATION}', 'accepted', 'pending', 0, ${p(3)}, ${p(4)}, ${p(5)}, 'enrollment', ${p(6)}, 'alert')`;
}

/**
 * Queues the message of every pending alert that has none: alerts written by a release before
 * the one outbox, by an instance still running it during a rolling upgrade, once no sender of
 * that release holds a lease on it. The parameter: now.
 */
export const ADOPT_PENDING_ALERTS = `INSERT INTO deliveries (id, notification_id, sink, origin, status, attempts,
    next_attempt_at, created_at, updated_at, event, alert_id, kind)
  SELECT a.id, a.notification_id, '${ALERT_DESTINATION}', 'accepted', 'pending', a.attempts, a.next_attempt_at,
         a.created_at, a.created_at, 'enrollment', a.id, 'alert'
    FROM risk_alerts a
   WHERE a.status = 'pending' AND (a.lease_until IS NULL OR a.lease_until <= ?)
     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.kind = 'alert')
  ON CONFLICT (id) DO NOTHING`;

/**
 * `risk_alerts.lease_until` of an alert the outbox sends: beyond any clock, so that an instance of
 * the release before the one outbox (which claimed alerts whose lease had run out) never claims
 * it during a rolling upgrade. Written with every new alert, by migration 7 and by adoption.
 */
export const ALERT_LEASED_BY_OUTBOX = 8_000_000_000_000_000;

/** Marks adopted alerts as the outbox's (see ALERT_LEASED_BY_OUTBOX). No parameters. */
export const LEASE_ADOPTED_ALERTS = `UPDATE risk_alerts SET lease_until = ${ALERT_LEASED_BY_OUTBOX}
  WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < ${ALERT_LEASED_BY_OUTBOX})
    AND EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = risk_alerts.id AND d.kind = 'alert')`;
