import type { AlertStatus } from '../domain/alert-statuses.js';
import type {
  CardholderAnswer,
  CaseNoteKind,
  CaseStatus,
  Disposition,
} from '../domain/case-codes.js';
import type { IssuerScope } from '../domain/issuer-scope.js';
import type { RiskInputs, RiskLevel, RiskReason } from '../domain/risk-codes.js';

/** One fraud case: the attempts on one card while it was open. */
export interface CaseSummary {
  id: string;
  /** Its attempts' issuer (null only for a case without attempts). */
  issuer: string | null;
  cardFingerprint: string | null;
  panLast4: string | null;
  status: CaseStatus;
  /** The highest assessed level of its attempts. */
  level: RiskLevel;
  openedBy: 'assessment' | 'cardholder_answer';
  openedAt: number;
  updatedAt: number;
  /** Operator name. */
  assignee: string | null;
  /** When the cardholder said "not recognised" (the case then goes ahead of others). */
  escalatedAt: number | null;
  closedAt: number | null;
  closedBy: string | null;
  disposition: Disposition | null;
  attemptCount: number;
}

export interface CaseAlert {
  id: string;
  status: AlertStatus;
  createdAt: number;
  sentAt: number | null;
  answer: CardholderAnswer | null;
  answeredAt: number | null;
  answeredBy: string | null;
}

/** An attempt of a case: ids, masked card, the assessment and the alert (no personal data). */
export interface CaseAttempt {
  notificationId: string;
  receivedAt: number;
  addedAt: number;
  panBin: string | null;
  panLast4: string | null;
  risk: { score: number; level: RiskLevel; reasons: RiskReason[] } | null;
  alert: CaseAlert | null;
}

export interface CaseNote {
  seq: number;
  at: number;
  /** Operator name, `system`, or the channel operator that posted an answer. */
  author: string;
  kind: CaseNoteKind;
  /** The analyst's text (notes, and the disposition's note); null for events. */
  text: string | null;
  /** Ids and codes of an event. */
  detail: Record<string, unknown> | null;
}

export interface CaseDetail extends CaseSummary {
  attempts: CaseAttempt[];
  notes: CaseNote[];
}

/** Filters of the case queue; all optional, combined with AND. */
export interface CaseFilter {
  /** The issuers whose cases may match (required). */
  scope: IssuerScope;
  status?: CaseStatus | undefined;
  level?: RiskLevel | undefined;
  assignee?: string | undefined;
  /** true: not closed and opened at or before `overdueAt`; false: the others. */
  overdue?: boolean | undefined;
  /** Cases opened at or before this (ms) and not closed are overdue (now − slaHours). */
  overdueAt: number;
  limit: number;
  offset: number;
}

export interface AnswerRequest {
  alertId: string;
  /** The channel's issuers: an alert of another issuer is ALERT_NOT_FOUND. */
  scope: IssuerScope;
  answer: CardholderAnswer;
  /** ms since the epoch. */
  at: number;
  /** The channel operator's name. */
  by: string;
  /** Answers to alerts written longer ago than this are refused (ALERT_EXPIRED). */
  windowMs: number;
  /** `recognised` closes the case as legitimate. */
  closeOnRecognised: boolean;
  /** `risk.cases.enabled`: false records the answer (and queues the event) without cases. */
  cases: boolean;
  /** Id for a case opened by a `not_recognised`. */
  newCaseId: string;
}

export type AnswerRefusal = 'ALERT_NOT_FOUND' | 'ALERT_EXPIRED' | 'ALERT_ALREADY_ANSWERED';

export type AnswerOutcome =
  | {
      ok: true;
      alertId: string;
      notificationId: string;
      answer: CardholderAnswer;
      caseId: string | null;
      caseStatus: CaseStatus | null;
      /** `ctp.cardholder_answer` deliveries queued (one per sink). */
      events: number;
    }
  | { ok: false; code: AnswerRefusal };

export type CaseRefusal = 'NOT_FOUND' | 'CASE_CLOSED';
export type CaseOutcome = { ok: true; case: CaseSummary } | { ok: false; code: CaseRefusal };

/** An assessed attempt with its labels, for evaluation and backtests (codes and numbers only). */
export interface LabelledAssessment {
  notificationId: string;
  receivedAt: number;
  score: number;
  level: RiskLevel;
  reasons: RiskReason[];
  shadow: RiskReason[];
  /** Null for assessments stored before inputs were kept. */
  inputs: RiskInputs | null;
  /** Of the attempt's case, once closed. */
  disposition: Disposition | null;
  /** To the attempt's alert. */
  answer: CardholderAnswer | null;
}
