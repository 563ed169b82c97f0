import type { AlertStatus } from '../domain/alert-statuses.js';
import type { DeliveryStatus, MessageKind } from '../domain/delivery-codes.js';
import type { IssuerScope } from '../domain/issuer-scope.js';
import type { EventSource } from '../events/ctp-event.js';

/**
 * The delivery queue (transactional outbox). Rows are written by the NotificationStore in the
 * notification's own transaction (one per configured sink) and drained by the delivery worker
 * through this interface. `sqlite-outbox.ts` and `postgres-outbox.ts` implement it on the
 * notification store's own connection.
 */

export type { MessageKind };

/** The `sink` of every alert message: the alert channel (no configured sink can be named so). */
export const ALERT_DESTINATION = 'alert:cardholder';

/** What an alert message is sent from: the alert row written with the assessment. */
export interface ClaimedAlertFacts {
  id: string;
  cardFingerprint: string | null;
  level: string;
  language: string | null;
  /** The recipient's contacts, encrypted under `dataKeyId`; null once purged. */
  recipientCiphertext: Buffer | null;
  dataKeyId: string | null;
  /** `sent` when a sender of the previous release sent it already (a rolling upgrade). */
  status: AlertStatus;
}

/** A delivery leased to one worker, with the stored notification its event is built from. */
export interface ClaimedDelivery {
  id: string;
  kind: MessageKind;
  sink: string;
  /** Attempts including this one (the claim counts it, so a crash loop still ends in dead). */
  attempt: number;
  /** Fences the result: only the holder of this lease may record it. */
  leaseToken: string;
  createdAt: number;
  /** The stored notification (an alert's masked card and time come from it too). */
  source: EventSource;
  /** Set for `kind: 'alert'`. */
  alert?: ClaimedAlertFacts;
}

export interface ClaimRequest {
  sink: string;
  limit: number;
  leaseMs: number;
  /** Identifies the worker in `lease_owner` (for operators); a per-claim suffix is added. */
  workerId: string;
}

export interface FailureRecord {
  /** Stable code: HTTP_503, TIMEOUT, CONNECTION, AMQP_NACK, AMQP_UNROUTABLE, EVENT_BUILD_FAILED… */
  error: string;
  /** HTTP status, when there was one. */
  httpStatus: number | null;
  /** When to try again; ignored when `dead`. */
  nextAttemptAt: number;
  dead: boolean;
}

export interface DeliverySummary {
  id: string;
  kind: MessageKind;
  notificationId: string;
  sink: string;
  origin: 'accepted' | 'replay';
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  lastError: string | null;
  lastStatus: number | null;
  /** A worker holds it until then (it is being delivered now, or its worker died). */
  leaseUntil: number | null;
  /** Its notification's issuer. */
  issuer: string;
  /** Which event it carries: the enrollment attempt, or the cardholder's answer to its alert. */
  event: 'enrollment' | 'cardholder_answer';
  /** The answered alert (`cardholder_answer`), or the alert it sends (kind `alert`). */
  alertId: string | null;
}

export interface DeliveryQuery {
  /** The issuers whose deliveries (by their notification) may match (required). */
  scope: IssuerScope;
  /** One delivery. */
  id?: string;
  kind?: MessageKind;
  status?: DeliveryStatus;
  sink?: string;
  notificationId?: string;
  /** Default 50. */
  limit?: number;
  /** Exclusive upper bound on (createdAt, id), for paging newest first. */
  before?: { createdAt: number; id: string };
}

export interface SinkState {
  name: string;
  disabledAt: number | null;
  disabledReason: string | null;
}

export interface OutboxStats {
  sink: string;
  status: DeliveryStatus;
  count: number;
  /** Oldest row in that status (ms since the epoch). */
  oldestCreatedAt: number;
}

/** Options of {@link NotificationStore.openOutbox}. */
export interface OutboxOptions {
  /**
   * How long a delivery waits for its notification's risk assessment, in ms; undefined (the
   * default) when risk assessment is off and nothing waits.
   */
  riskWaitMs?: number | undefined;
  /** Clock; default `Date.now`. */
  now?: () => number;
}

/** Delivered rows per sink (see {@link OutboxStore.deliveredSince}). */
export interface DeliveredCount {
  sink: string;
  count: number;
}

/**
 * A sent message's outcome for {@link OutboxStore.record}: `failure` absent when delivered.
 * `alertId` names the alert of an alert message.
 */
export interface OutboxOutcome {
  id: string;
  leaseToken: string;
  alertId?: string | undefined;
  failure?: FailureRecord | undefined;
}

/** One delivery by id, or every dead one of a kind (default `event`), optionally of one sink. */
/** What to retry, among the deliveries of the scope's issuers. */
export type RetryTarget = { scope: IssuerScope } & (
  | { id: string }
  | { dead: true; sink?: string; kind?: MessageKind }
);

export interface OutboxStore {
  /**
   * Leases up to `limit` due deliveries of one sink (status pending or failed, next attempt
   * due, no live lease, sink not disabled), counting the attempt. Several workers may call
   * this at once: each row goes to one of them.
   */
  claim(request: ClaimRequest): Promise<ClaimedDelivery[]>;
  /**
   * Records the outcomes of sent messages, all in one write: delivered (an alert message's alert
   * then sent, its recipient dropped), or failed (retry later, or dead; a dead alert message's
   * alert dead too). Each applies only while its lease holds; the answer says, per outcome in
   * order, whether it did (false: another worker took the message over).
   */
  record(outcomes: readonly OutboxOutcome[]): Promise<boolean[]>;
  /**
   * Gives back messages claimed under `leaseToken` and not sent (the worker stopping, say): no
   * longer leased, their attempt not counted. Returns how many.
   */
  release(leaseToken: string, ids: readonly string[]): Promise<number>;
  /** `record` of one delivered message. */
  complete(id: string, leaseToken: string, alertId?: string): Promise<boolean>;
  /** `record` of one failed attempt. */
  fail(id: string, leaseToken: string, failure: FailureRecord, alertId?: string): Promise<boolean>;
  list(query: DeliveryQuery): Promise<DeliverySummary[]>;
  /**
   * Makes failed or dead deliveries due now with a fresh attempt budget: one by id, or every
   * dead one of `kind` (default `event`: dead alerts only when asked for) and of `sink`, if
   * given. Skips a row whose notification already has another open delivery to the same sink. A
   * retried alert message's alert is pending again. Returns how many.
   */
  retry(target: RetryTarget): Promise<number>;
  /**
   * Queues the enrollment events of every accepted notification of the scope's issuers received
   * at or after `since` for `sink` again (same event ids), except those with an open delivery of that event to it
   * already. Cardholder answers are not replayed. Returns how many.
   */
  replay(sink: string, since: number, scope: IssuerScope): Promise<number>;
  /**
   * Queues every pending cardholder alert that has no message yet (written by an instance of the
   * release before the one outbox, during a rolling upgrade). Returns how many.
   */
  adoptPendingAlerts(): Promise<number>;
  /** Stops claims for a sink until `enableSink` (a 410 from a webhook, or an operator). */
  disableSink(name: string, reason: string): Promise<void>;
  enableSink(name: string): Promise<boolean>;
  sinkStates(): Promise<SinkState[]>;
  /** Count and age per sink and status, for operators and metrics. */
  stats(scope: IssuerScope): Promise<OutboxStats[]>;
  /**
   * Deliveries created at or after `since` (ms) and delivered, per sink (on the created_at index).
   */
  deliveredSince(since: number, scope: IssuerScope): Promise<DeliveredCount[]>;
  /**
   * Calls `onQueued` when another process may have queued deliveries (PostgreSQL: LISTEN on
   * the channel the store notifies at commit). SQLite has no such signal: resolves to a no-op
   * and the worker relies on its poll. Never throws after it resolved; reconnects by itself.
   */
  watch(
    onQueued: () => void,
    onError?: (error: unknown) => void,
  ): Promise<{ close(): Promise<void> }>;
}
