import type { AlertStatus } from '../domain/alert-statuses.js';
import type { CardholderAnswer, Disposition } from '../domain/case-codes.js';
import type { RiskInputs, RiskLevel, RiskReason } from '../domain/risk-codes.js';
import type { CaseAttempt, CaseNote, CaseSummary, LabelledAssessment } from './case-records.js';
import { num, str, toRisk } from './row-mapping.js';

/** Columns of a case summary (table alias `c`). */
/**
 * A case's issuer: that of its first attempt's notification (a card's fingerprint, and so its
 * case, is one issuer's).
 */
export const CASE_ISSUER =
  '(SELECT n.issuer FROM case_attempts ca JOIN notifications n ON n.id = ca.notification_id ' +
  'WHERE ca.case_id = c.id ORDER BY ca.added_at, ca.notification_id LIMIT 1)';

export const CASE_COLUMNS =
  `${CASE_ISSUER} AS issuer, ` +
  'c.id, c.card_fingerprint, c.pan_last4, c.status, c.level, c.opened_by, c.opened_at, c.updated_at, c.assignee, ' +
  'c.escalated_at, c.closed_at, c.closed_by, c.disposition, ' +
  '(SELECT COUNT(*) FROM case_attempts ca WHERE ca.case_id = c.id) AS attempt_count';

export function toCaseSummary(r: Record<string, unknown>): CaseSummary {
  return {
    id: String(r.id),
    issuer: str(r.issuer),
    cardFingerprint: str(r.card_fingerprint),
    panLast4: str(r.pan_last4),
    status: r.status as CaseSummary['status'],
    level: r.level as RiskLevel,
    openedBy: r.opened_by as CaseSummary['openedBy'],
    openedAt: Number(r.opened_at),
    updatedAt: Number(r.updated_at),
    assignee: str(r.assignee),
    escalatedAt: num(r.escalated_at),
    closedAt: num(r.closed_at),
    closedBy: str(r.closed_by),
    disposition: (r.disposition ?? null) as Disposition | null,
    attemptCount: Number(r.attempt_count ?? 0),
  };
}

/** Columns of a case's attempts (aliases: ca, n, r, a). */
export const CASE_ATTEMPT_COLUMNS =
  'ca.notification_id, ca.added_at, n.received_at, n.pan_bin, n.pan_last4, ' +
  'r.score AS risk_score, r.level AS risk_level, r.reasons AS risk_reasons, ' +
  'a.id AS alert_id, a.status AS alert_status, a.created_at AS alert_created_at, a.sent_at, a.answer, a.answered_at, a.answered_by';

export function toCaseAttempt(r: Record<string, unknown>): CaseAttempt {
  return {
    notificationId: String(r.notification_id),
    receivedAt: Number(r.received_at),
    addedAt: Number(r.added_at),
    panBin: str(r.pan_bin),
    panLast4: str(r.pan_last4),
    risk: toRisk(r),
    alert:
      r.alert_id == null
        ? null
        : {
            id: String(r.alert_id),
            status: r.alert_status as AlertStatus,
            createdAt: Number(r.alert_created_at),
            sentAt: num(r.sent_at),
            answer: (r.answer ?? null) as CardholderAnswer | null,
            answeredAt: num(r.answered_at),
            answeredBy: str(r.answered_by),
          },
  };
}

export function toCaseNote(r: Record<string, unknown>): CaseNote {
  return {
    seq: Number(r.seq),
    at: Number(r.at),
    author: String(r.author),
    kind: r.kind as CaseNote['kind'],
    text: str(r.text),
    detail: r.detail == null ? null : (JSON.parse(String(r.detail)) as Record<string, unknown>),
  };
}

export const LABELLED_COLUMNS =
  'r.notification_id, r.received_at, r.score, r.level, r.reasons, r.shadow, r.inputs, c.disposition, a.answer';

export function toLabelled(r: Record<string, unknown>): LabelledAssessment {
  return {
    notificationId: String(r.notification_id),
    receivedAt: Number(r.received_at),
    score: Number(r.score),
    level: r.level as RiskLevel,
    reasons: JSON.parse(String(r.reasons)) as RiskReason[],
    shadow: JSON.parse(String(r.shadow)) as RiskReason[],
    inputs: r.inputs == null ? null : (JSON.parse(String(r.inputs)) as RiskInputs),
    disposition: (r.disposition ?? null) as Disposition | null,
    answer: (r.answer ?? null) as CardholderAnswer | null,
  };
}
