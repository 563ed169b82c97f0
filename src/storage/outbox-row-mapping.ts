import type { AlertStatus } from '../domain/alert-statuses.js';
import type { AnswerFacts, EventSource } from '../events/ctp-event.js';
import type { ClaimedDelivery, DeliverySummary, MessageKind } from './outbox-store.js';
import { ENROLLER_WITH_PAN_COLUMNS, num, str, toEnrollerWithPan, toRisk } from './row-mapping.js';

/**
 * Notification columns an event is built from (table alias `n`). A column added to the event
 * (the risk assessment) is added here and in `toEventSource`.
 */
export const EVENT_SOURCE_COLUMNS = [
  'n.id AS n_id',
  'n.dedup_key',
  'n.received_at',
  'n.token_requestor_id',
  'n.event_type',
  'n.tsp',
  ...ENROLLER_WITH_PAN_COLUMNS.map((c) => `n.${c}`),
  '(SELECT r.score FROM risk_assessments r WHERE r.notification_id = n.id) AS risk_score',
  '(SELECT r.level FROM risk_assessments r WHERE r.notification_id = n.id) AS risk_level',
  '(SELECT r.reasons FROM risk_assessments r WHERE r.notification_id = n.id) AS risk_reasons',
  '(SELECT ca.case_id FROM case_attempts ca WHERE ca.notification_id = n.id) AS case_id',
  'a.id AS answer_alert_id',
  'a.answer AS answer',
  'a.answered_at AS answered_at',
].join(', ');

/** The alert columns of an alert message's claim (alias `a`, as `ANSWER_JOIN` brings it). */
export const ALERT_FACT_COLUMNS = [
  'a.card_fingerprint AS alert_card_fingerprint',
  'a.level AS alert_level',
  'a.language AS alert_language',
  'a.recipient_ciphertext AS alert_recipient',
  'a.data_key_id AS alert_data_key_id',
  'a.status AS alert_status',
].join(', ');

/** A claimed row (`id, kind, sink, attempts, created_at`, the event source, the alert facts). */
export function toClaimedDelivery(r: Record<string, unknown>, leaseToken: string): ClaimedDelivery {
  const kind = (r.kind ?? 'event') as MessageKind;
  return {
    id: String(r.id),
    kind,
    sink: String(r.sink),
    attempt: Number(r.attempts),
    leaseToken,
    createdAt: Number(r.created_at),
    source: toEventSource(r),
    ...(kind === 'alert'
      ? {
          alert: {
            id: String(r.answer_alert_id),
            cardFingerprint: str(r.alert_card_fingerprint),
            level: String(r.alert_level),
            language: str(r.alert_language),
            recipientCiphertext:
              r.alert_recipient == null ? null : Buffer.from(r.alert_recipient as Uint8Array),
            dataKeyId: str(r.alert_data_key_id),
            status: String(r.alert_status) as AlertStatus,
          },
        }
      : {}),
  };
}

/**
 * The join that brings a cardholder-answer delivery's alert (alias `a`) to the claim's row;
 * `d` is the deliveries row's alias in the claim query.
 */
export const ANSWER_JOIN = (d: string) => `LEFT JOIN risk_alerts a ON a.id = ${d}.alert_id`;

export function toEventSource(r: Record<string, unknown>): EventSource {
  return {
    notificationId: String(r.n_id),
    dedupKey: String(r.dedup_key),
    receivedAt: Number(r.received_at),
    tokenRequestorId: String(r.token_requestor_id),
    eventType: String(r.event_type),
    tsp: str(r.tsp),
    ...toEnrollerWithPan(r),
    // Null until assessed (or when assessment is off): the event then says `"risk": null`.
    risk: toRisk(r),
    // Set only on a `ctp.cardholder_answer` delivery (its row names the alert).
    ...(r.answer_alert_id == null || r.answer == null || r.kind === 'alert'
      ? {}
      : {
          answer: {
            alertId: String(r.answer_alert_id),
            answer: r.answer as AnswerFacts['answer'],
            answeredAt: Number(r.answered_at),
            caseId: str(r.case_id),
          },
        }),
  };
}

export const SUMMARY_COLUMNS =
  'd.id, d.notification_id, d.sink, d.origin, d.status, d.attempts, d.next_attempt_at, d.created_at, d.updated_at, ' +
  'd.delivered_at, d.last_error, d.last_status, d.lease_until, d.event, d.alert_id, d.kind';

export function toDeliverySummary(r: Record<string, unknown>): DeliverySummary {
  return {
    id: String(r.id),
    issuer: String(r.issuer),
    kind: (r.kind ?? 'event') as MessageKind,
    notificationId: String(r.notification_id),
    sink: String(r.sink),
    origin: r.origin as DeliverySummary['origin'],
    status: r.status as DeliverySummary['status'],
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    deliveredAt: num(r.delivered_at),
    lastError: str(r.last_error),
    lastStatus: num(r.last_status),
    leaseUntil: num(r.lease_until),
    event: (r.event ?? 'enrollment') as DeliverySummary['event'],
    alertId: str(r.alert_id),
  };
}
