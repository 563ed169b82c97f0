import type { AlertStatus } from '../domain/alert-statuses.js';
import type {
  RiskInputs,
  RiskLevel,
  RiskReason,
  RiskSummary,
  ShadowHit,
} from '../domain/risk-codes.js';
import type { CardholderStore } from './cardholder-store.js';
import type { EncryptedPan, EnrollerFields, NotificationRecord } from './notification-record.js';

/** The stores of the risk side, on the notification store's own connection or pool. */
export interface RiskStores {
  cardholders: CardholderStore;
  risk: RiskStore;
  alerts: AlertStore;
}

/** What the assessment reads of a stored notification. */
export type AssessmentSubject = EnrollerFields &
  EncryptedPan &
  Pick<NotificationRecord, 'id' | 'dedupKey' | 'receivedAt' | 'eventType' | 'status'>;

export interface AssessmentRecord {
  notificationId: string;
  receivedAt: number;
  assessedAt: number;
  cardFingerprint: string | null;
  /** Keyed hashes of the enroller's normalised email and phone (never the values). */
  emailHash: string | null;
  phoneHash: string | null;
  /** Whether the enroller's email / phone is on file for this card; null when unknown. */
  emailOnFile: boolean | null;
  phoneOnFile: boolean | null;
  score: number;
  level: RiskLevel;
  reasons: RiskReason[];
  shadow: ShadowHit[];
  directory: 'found' | 'unknown' | 'unavailable';
  /** What the rules read, as codes and numbers (for backtests). */
  inputs: RiskInputs;
}

/** The alert to write with an assessment (the outbox row of "was this you?"). */
export interface AlertDraft {
  id: string;
  notificationId: string;
  cardFingerprint: string | null;
  createdAt: number;
  receivedAt: number;
  level: RiskLevel;
  language: string | null;
  panLast4: string | null;
  /** Null when the directory has no contact for the card: the row is kept as `no_contact`. */
  recipient: { dataKeyId: string; ciphertext: Buffer } | null;
  /** At most one alert per card within this many milliseconds. */
  windowMs: number;
}

export interface StoredAssessment extends RiskSummary {
  shadow: ShadowHit[];
  assessedAt: number;
}

/** What the assessment asks of cases: join the card's open case, or open one when `opens`. */
export interface CaseDraft {
  /** Id for a new case. */
  id: string;
  /** The assessment reached `risk.cases.minLevel`. */
  opens: boolean;
  /** Shown with the case (the one part of the card number a case shows). */
  panLast4: string | null;
}

export interface SaveResult {
  saved: boolean;
  alert: AlertStatus | 'none';
  /** The case the attempt joined or opened, if any. */
  caseId?: string | null;
}

export interface RiskStore {
  /**
   * How many assessments the service runs at once: their writes share a commit on SQLite; on
   * PostgreSQL each holds pool connections the Visa route shares.
   */
  readonly assessmentBatch: number;
  loadSubject(id: string): Promise<AssessmentSubject | undefined>;
  isAssessed(id: string): Promise<boolean>;
  /** Accepted notifications of `eventType` on a card received in (since, until]. */
  countAttempts(
    fingerprint: string,
    eventType: string,
    since: number,
    until: number,
  ): Promise<number>;
  /**
   * Enroller keys of the card's assessed attempts received in (since, until], other than
   * `excludeId`.
   */
  enrollerKeys(
    fingerprint: string,
    since: number,
    until: number,
    excludeId: string,
  ): Promise<{ emailHash: string | null; phoneHash: string | null }[]>;
  /**
   * Distinct cards, other than `excludeFingerprint`, whose assessed attempts in (since, until]
   * used this email / phone hash where it was not on file for the card.
   */
  otherCardsSharing(
    kind: 'email' | 'phone',
    hash: string,
    since: number,
    until: number,
    excludeFingerprint: string | null,
  ): Promise<number>;
  /**
   * Stores the assessment and, when given, its alert and its case, in one transaction. The
   * first assessment of a notification wins (a second process assessing it too changes
   * nothing). The alert is `pending` unless the card had one within the window (`suppressed`)
   * or no recipient is known (`no_contact`). With `caseDraft`, the attempt joins its card's
   * open case, or opens one when the draft says so; `caseId` says which.
   */
  saveAssessment(
    rec: AssessmentRecord,
    alert?: AlertDraft,
    caseDraft?: CaseDraft,
  ): Promise<SaveResult>;
  assessments(ids: readonly string[]): Promise<Map<string, StoredAssessment>>;
  /** Accepted notifications received in [since, before) with no assessment, oldest first. */
  unassessed(since: number, before: number, limit: number): Promise<string[]>;
}

export interface AlertRow {
  id: string;
  notificationId: string;
  status: AlertStatus;
  level: RiskLevel;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

/**
 * Cardholder alerts, read: each is written with its assessment and sent through the outbox as a
 * message of kind `alert` (`OutboxStore`), which records its outcome here too.
 */
export interface AlertStore {
  /** Newest first. */
  list(limit: number): Promise<AlertRow[]>;
}
