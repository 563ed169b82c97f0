import type { CaseNoteKind, CaseStatus, Disposition } from '../domain/case-codes.js';
import type { IssuerScope } from '../domain/issuer-scope.js';
import type { RiskLevel } from '../domain/risk-codes.js';
import { uuidV7 } from '../util/uuid-v7.js';
import type { AnswerOutcome, AnswerRequest, CaseOutcome } from './case-records.js';
import { CASE_COLUMNS, CASE_ISSUER, toCaseSummary } from './case-row-mapping.js';
import type { AssessmentRecord, CaseDraft } from './risk-store.js';
import { SqlFilter } from './sql-filter.js';
import { all, outboxQueued, run, type SqlScript } from './sql-script.js';

/**
 * The writes of fraud cases, each one transaction script (see `sql-script.ts`) run on either
 * dialect: inside the assessment's transaction (open or join), or by the case store (answers,
 * assignment, notes, dispositions). At most one case per card is not closed: a partial unique
 * index decides between two processes opening one at once.
 */

const RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };
const higher = (a: RiskLevel, b: RiskLevel): RiskLevel => (RANK[a] >= RANK[b] ? a : b);

interface CaseRow {
  id: string;
  status: CaseStatus;
  level: RiskLevel;
}

function* note(
  caseId: string,
  at: number,
  author: string,
  kind: CaseNoteKind,
  text: string | null,
  detail: Record<string, unknown> | null,
): SqlScript<void> {
  yield* run(
    'INSERT INTO case_notes (case_id, at, author, kind, text, detail) VALUES (?, ?, ?, ?, ?, ?)',
    [caseId, at, author, kind, text, detail === null ? null : JSON.stringify(detail)],
  );
}

function* openCaseOf(fingerprint: string | null): SqlScript<CaseRow | undefined> {
  if (fingerprint === null) return undefined;
  const [row] = yield* all<CaseRow>(
    "SELECT id, status, level FROM cases WHERE card_fingerprint = ? AND status <> 'closed'",
    [fingerprint],
  );
  return row;
}

/** Adds the attempt to the case (once) and raises the case's level to the attempt's. */
function* join(
  c: CaseRow,
  notificationId: string,
  level: RiskLevel,
  at: number,
  author: string,
): SqlScript<boolean> {
  const added = yield* run(
    'INSERT INTO case_attempts (notification_id, case_id, added_at) VALUES (?, ?, ?) ON CONFLICT (notification_id) DO NOTHING',
    [notificationId, c.id, at],
  );
  yield* run('UPDATE cases SET level = ?, updated_at = ? WHERE id = ?', [
    higher(c.level, level),
    at,
    c.id,
  ]);
  if (added > 0) yield* note(c.id, at, author, 'attempt', null, { notificationId, level });
  return added > 0;
}

interface NewCase {
  id: string;
  fingerprint: string | null;
  panLast4: string | null;
  level: RiskLevel;
  openedBy: 'assessment' | 'cardholder_answer';
  at: number;
  escalated: boolean;
}

/** Opens a case, or finds the one another process opened for the card a moment ago. */
function* open(c: NewCase): SqlScript<CaseRow> {
  const inserted = yield* all<CaseRow>(
    `INSERT INTO cases (id, card_fingerprint, pan_last4, status, level, opened_by, opened_at, updated_at, escalated_at)
     VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)
     ON CONFLICT (card_fingerprint) WHERE status <> 'closed' DO NOTHING RETURNING id, status, level`,
    [c.id, c.fingerprint, c.panLast4, c.level, c.openedBy, c.at, c.at, c.escalated ? c.at : null],
  );
  if (inserted[0]) {
    yield* note(c.id, c.at, 'system', 'opened', null, { by: c.openedBy, level: c.level });
    return inserted[0];
  }
  const existing = yield* openCaseOf(c.fingerprint);
  if (!existing) throw new Error('case conflict without an open case');
  return existing;
}

/**
 * After an assessment is stored: joins the attempt to its card's open case, or opens one when
 * the draft says so. Returns the case id, or null.
 */
export function* caseOnAssessment(
  a: Pick<AssessmentRecord, 'notificationId' | 'cardFingerprint' | 'level' | 'assessedAt'>,
  draft: CaseDraft,
): SqlScript<string | null> {
  let c = yield* openCaseOf(a.cardFingerprint);
  if (!c) {
    if (!draft.opens) return null;
    c = yield* open({
      id: draft.id,
      fingerprint: a.cardFingerprint,
      panLast4: draft.panLast4,
      level: a.level,
      openedBy: 'assessment',
      at: a.assessedAt,
      escalated: false,
    });
  }
  yield* join(c, a.notificationId, a.level, a.assessedAt, 'system');
  return c.id;
}

interface AlertRow {
  id: string;
  notification_id: string;
  card_fingerprint: string | null;
  status: string;
  created_at: number | string;
  answer: string | null;
}

/**
 * Records the cardholder's answer to an alert, once. `not_recognised` escalates the card's open
 * case (or reopens the attempt's closed one, or opens one), whatever the score, and queues a
 * `ctp.cardholder_answer` delivery per sink in the same transaction; `recognised` is noted on the
 * attempt's case and, with `closeOnRecognised`, closes it as legitimate.
 */
export function* recordAnswer(
  req: AnswerRequest,
  sinks: readonly string[],
): SqlScript<AnswerOutcome> {
  const [alert] = yield* all<AlertRow>(
    'SELECT id, notification_id, card_fingerprint, status, created_at, answer FROM risk_alerts WHERE id = ?',
    [req.alertId],
  );
  // Suppressed, no_contact and dead alerts never reached the cardholder: nothing to answer.
  if (!alert || (alert.status !== 'pending' && alert.status !== 'sent'))
    return { ok: false, code: 'ALERT_NOT_FOUND' };
  if (alert.answer !== null) return { ok: false, code: 'ALERT_ALREADY_ANSWERED' };
  if (Number(alert.created_at) < req.at - req.windowMs) return { ok: false, code: 'ALERT_EXPIRED' };
  const took = yield* run(
    'UPDATE risk_alerts SET answer = ?, answered_at = ?, answered_by = ? WHERE id = ? AND answer IS NULL',
    [req.answer, req.at, req.by, req.alertId],
  );
  if (took === 0) return { ok: false, code: 'ALERT_ALREADY_ANSWERED' };

  const notificationId = alert.notification_id;
  const [own] = req.cases
    ? yield* all<CaseRow>(
        'SELECT c.id, c.status, c.level FROM case_attempts ca JOIN cases c ON c.id = ca.case_id WHERE ca.notification_id = ?',
        [notificationId],
      )
    : [];
  const openCase = req.cases ? yield* openCaseOf(alert.card_fingerprint) : undefined;
  const detail = { alertId: req.alertId, notificationId, answer: req.answer };
  let target: CaseRow | undefined;
  let events = 0;

  if (req.answer === 'not_recognised') {
    const [assessed] = yield* all<{ level: RiskLevel; pan_last4: string | null }>(
      `SELECT r.level, n.pan_last4 FROM notifications n LEFT JOIN risk_assessments r ON r.notification_id = n.id
       WHERE n.id = ?`,
      [notificationId],
    );
    const level = assessed?.level ?? 'low';
    if (req.cases)
      target = yield* escalate(
        req,
        { own, openCase, notificationId, level },
        {
          fingerprint: alert.card_fingerprint,
          panLast4: assessed?.pan_last4 ?? null,
        },
      );
    if (target) yield* note(target.id, req.at, req.by, 'answer', null, detail);
    for (const sink of sinks) {
      yield* run(
        `INSERT INTO deliveries (id, notification_id, sink, origin, status, attempts, next_attempt_at, created_at,
           updated_at, event, alert_id) VALUES (?, ?, ?, 'accepted', 'pending', 0, ?, ?, ?, 'cardholder_answer', ?)`,
        [uuidV7(req.at), notificationId, sink, req.at, req.at, req.at, req.alertId],
      );
      events++;
    }
    if (events > 0) yield* outboxQueued();
  } else {
    target = own ?? openCase;
    if (target) {
      yield* note(target.id, req.at, req.by, 'answer', null, detail);
      if (req.closeOnRecognised && target.status !== 'closed') {
        yield* closeWith(target.id, 'legitimate', null, req.at, req.by);
        target = { ...target, status: 'closed' };
      }
    }
  }
  return {
    ok: true,
    alertId: req.alertId,
    notificationId,
    answer: req.answer,
    caseId: target?.id ?? null,
    caseStatus: target?.status ?? null,
    events,
  };
}

/**
 * A `not_recognised`: escalates the card's open case (the attempt joins it), else reopens the
 * attempt's closed case, else opens one.
 */
function* escalate(
  req: AnswerRequest,
  at: {
    own: CaseRow | undefined;
    openCase: CaseRow | undefined;
    notificationId: string;
    level: RiskLevel;
  },
  card: { fingerprint: string | null; panLast4: string | null },
): SqlScript<CaseRow> {
  const { own, openCase, notificationId, level } = at;
  if (openCase) {
    yield* run(
      'UPDATE cases SET escalated_at = COALESCE(escalated_at, ?), updated_at = ? WHERE id = ?',
      [req.at, req.at, openCase.id],
    );
    if (!own) yield* join(openCase, notificationId, level, req.at, req.by);
    return openCase;
  }
  const detail = { alertId: req.alertId, notificationId, answer: req.answer };
  if (own) {
    yield* run(
      `UPDATE cases SET status = 'open', disposition = NULL, closed_at = NULL, closed_by = NULL,
       escalated_at = ?, updated_at = ? WHERE id = ?`,
      [req.at, req.at, own.id],
    );
    yield* note(own.id, req.at, req.by, 'reopened', null, detail);
    return { ...own, status: 'open' };
  }
  const opened = yield* open({
    id: req.newCaseId,
    fingerprint: card.fingerprint,
    panLast4: card.panLast4,
    level,
    openedBy: 'cardholder_answer',
    at: req.at,
    escalated: true,
  });
  yield* join(opened, notificationId, level, req.at, req.by);
  return opened;
}

function* closeWith(
  id: string,
  disposition: Disposition,
  text: string | null,
  at: number,
  by: string,
): SqlScript<boolean> {
  const n = yield* run(
    `UPDATE cases SET status = 'closed', disposition = ?, closed_at = ?, closed_by = ?, updated_at = ?
     WHERE id = ? AND status <> 'closed'`,
    [disposition, at, by, at, id],
  );
  if (n > 0) yield* note(id, at, by, 'closed', text, { disposition });
  return n > 0;
}

function* summary(id: string): SqlScript<CaseOutcome> {
  const [r] = yield* all(`SELECT ${CASE_COLUMNS} FROM cases c WHERE c.id = ?`, [id]);
  return r ? { ok: true, case: toCaseSummary(r) } : { ok: false, code: 'NOT_FOUND' };
}

function* current(id: string): SqlScript<CaseRow | undefined> {
  const [r] = yield* all<CaseRow>('SELECT id, status, level FROM cases WHERE id = ?', [id]);
  return r;
}

/** Assigns (in review) or unassigns (open again) a case that is not closed. */
export function* assignCase(
  id: string,
  assignee: string | null,
  at: number,
  by: string,
): SqlScript<CaseOutcome> {
  const c = yield* current(id);
  if (!c) return { ok: false, code: 'NOT_FOUND' };
  if (c.status === 'closed') return { ok: false, code: 'CASE_CLOSED' };
  const status: CaseStatus = assignee === null ? 'open' : 'in_review';
  yield* run('UPDATE cases SET assignee = ?, status = ?, updated_at = ? WHERE id = ?', [
    assignee,
    status,
    at,
    id,
  ]);
  yield* note(id, at, by, 'assigned', null, { assignee });
  return yield* summary(id);
}

/** Appends an analyst's note (closed cases too: a finding may come later). */
export function* addCaseNote(
  id: string,
  text: string,
  at: number,
  by: string,
): SqlScript<CaseOutcome> {
  const c = yield* current(id);
  if (!c) return { ok: false, code: 'NOT_FOUND' };
  yield* note(id, at, by, 'note', text, null);
  yield* run('UPDATE cases SET updated_at = ? WHERE id = ?', [at, id]);
  return yield* summary(id);
}

/** Closes a case with its disposition and the analyst's note. */
export function* closeCase(
  id: string,
  disposition: Disposition,
  text: string,
  at: number,
  by: string,
): SqlScript<CaseOutcome> {
  const c = yield* current(id);
  if (!c) return { ok: false, code: 'NOT_FOUND' };
  if (!(yield* closeWith(id, disposition, text, at, by))) return { ok: false, code: 'CASE_CLOSED' };
  return yield* summary(id);
}

/** Whether the case exists and is one of the scope's issuers'. */
export function* caseInScope(id: string, scope: IssuerScope): SqlScript<boolean> {
  const filter = new SqlFilter();
  filter.add('c.id = ?', id);
  filter.scope(CASE_ISSUER, scope);
  return (yield* all(`SELECT 1 FROM cases c ${filter.where}`, filter.params())).length > 0;
}

/** Whether the alert exists and its notification is one of the scope's issuers'. */
export function* alertInScope(id: string, scope: IssuerScope): SqlScript<boolean> {
  const filter = new SqlFilter();
  filter.add('a.id = ?', id);
  filter.scope('n.issuer', scope);
  const rows = yield* all(
    `SELECT 1 FROM risk_alerts a JOIN notifications n ON n.id = a.notification_id ${filter.where}`,
    filter.params(),
  );
  return rows.length > 0;
}
