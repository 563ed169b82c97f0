import type { Static } from '@sinclair/typebox';
import type { AnswerResult, CaseDetail, CaseItem } from '../api/api-schemas.js';
import type {
  AnswerOutcome,
  CaseDetail as CaseDetailRow,
  CaseSummary,
} from '../storage/case-records.js';
import { iso } from './iso-time.js';

/**
 * The one public JSON of a fraud case (the admin API and the console). `overdue` is computed at
 * `now` from `slaHours`. Cards appear as last four (and BIN…last4 per attempt) only; attempts
 * carry ids, codes and the alert's answer, never the enroller's name or contacts (those are on
 * the notification's own page, whose views are audited).
 */
export function presentCase(
  c: CaseSummary,
  now: number,
  slaHours: number,
): Static<typeof CaseItem> {
  const dueAt = c.openedAt + slaHours * 3_600_000;
  return {
    id: c.id,
    issuer: c.issuer,
    status: c.status,
    level: c.level,
    openedBy: c.openedBy,
    openedAt: iso(c.openedAt),
    updatedAt: iso(c.updatedAt),
    dueAt: iso(dueAt),
    overdue: c.status !== 'closed' && dueAt <= now,
    assignee: c.assignee,
    escalatedAt: iso(c.escalatedAt),
    closedAt: iso(c.closedAt),
    closedBy: c.closedBy,
    disposition: c.disposition,
    panLast4: c.panLast4,
    cardFingerprint: c.cardFingerprint,
    attemptCount: c.attemptCount,
  };
}

export function presentCaseDetail(
  c: CaseDetailRow,
  now: number,
  slaHours: number,
): Static<typeof CaseDetail> {
  return {
    ...presentCase(c, now, slaHours),
    attempts: c.attempts.map((a) => ({
      notificationId: a.notificationId,
      receivedAt: iso(a.receivedAt),
      addedAt: iso(a.addedAt),
      maskedPan: a.panLast4 ? `${a.panBin ?? ''}…${a.panLast4}` : null,
      risk: a.risk,
      alert: a.alert && {
        id: a.alert.id,
        status: a.alert.status,
        createdAt: iso(a.alert.createdAt),
        sentAt: iso(a.alert.sentAt),
        answer: a.alert.answer,
        answeredAt: iso(a.alert.answeredAt),
        answeredBy: a.alert.answeredBy,
      },
    })),
    notes: c.notes.map((n) => ({
      seq: n.seq,
      at: iso(n.at),
      author: n.author,
      kind: n.kind,
      text: n.text,
      detail: n.detail,
    })),
  };
}

/** The answer route's result. */
export function presentAnswer(
  o: Extract<AnswerOutcome, { ok: true }>,
): Static<typeof AnswerResult> {
  return {
    alertId: o.alertId,
    notificationId: o.notificationId,
    answer: o.answer,
    caseId: o.caseId,
    caseStatus: o.caseStatus,
    events: o.events,
  };
}
