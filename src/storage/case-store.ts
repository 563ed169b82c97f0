import type { Disposition } from '../domain/case-codes.js';
import type { IssuerScope } from '../domain/issuer-scope.js';
import type {
  AnswerOutcome,
  AnswerRequest,
  CaseDetail,
  CaseFilter,
  CaseOutcome,
  CaseSummary,
  LabelledAssessment,
} from './case-records.js';
import {
  CASE_ATTEMPT_COLUMNS,
  CASE_COLUMNS,
  CASE_ISSUER,
  LABELLED_COLUMNS,
  toCaseAttempt,
  toCaseNote,
  toCaseSummary,
  toLabelled,
} from './case-row-mapping.js';
import {
  addCaseNote,
  alertInScope,
  assignCase,
  caseInScope,
  closeCase,
  recordAnswer,
} from './case-scripts.js';
import type { SqlDriver } from './sql-driver.js';
import { SqlFilter } from './sql-filter.js';
import type { SqlScript } from './sql-script.js';

export interface CaseStoreOptions {
  /** Configured sinks: a `not_recognised` answer queues one delivery per sink. */
  sinks?: readonly string[];
  /** Called after a commit that queued deliveries (wakes an in-process delivery worker). */
  onDeliveriesQueued?: (() => void) | undefined;
}

/**
 * Fraud cases, cardholders' answers and the labels they make, on either dialect (statements
 * written once, with `?` placeholders; writes are transaction scripts). Cases are opened and
 * joined by the risk store, inside the assessment's transaction; this store reads them and
 * records what operators and the bank's channel do.
 */
export class CaseStore {
  readonly #sql: SqlDriver;
  readonly #sinks: readonly string[];
  readonly #onQueued: (() => void) | undefined;

  constructor(sql: SqlDriver, options: CaseStoreOptions = {}) {
    this.#sql = sql;
    this.#sinks = [...(options.sinks ?? [])];
    this.#onQueued = options.onDeliveriesQueued;
  }

  /**
   * The queue: cases not closed first (overdue ones first, then those the cardholder said were
   * not them, then oldest first), then closed ones, most recently closed first.
   */
  async list(f: CaseFilter): Promise<CaseSummary[]> {
    const filter = new SqlFilter();
    filter.scope(CASE_ISSUER, f.scope);
    if (f.status) filter.add('c.status = ?', f.status);
    if (f.level) filter.add('c.level = ?', f.level);
    if (f.assignee) filter.add('c.assignee = ?', f.assignee);
    if (f.overdue === true) filter.add("c.status <> 'closed' AND c.opened_at <= ?", f.overdueAt);
    if (f.overdue === false) filter.add("(c.status = 'closed' OR c.opened_at > ?)", f.overdueAt);
    const rows = await this.#sql.all(
      `SELECT ${CASE_COLUMNS} FROM cases c ${filter.where}
       ORDER BY CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END,
         CASE WHEN c.status <> 'closed' AND c.opened_at <= ? THEN 0 ELSE 1 END,
         CASE WHEN c.status <> 'closed' AND c.escalated_at IS NOT NULL THEN 0 ELSE 1 END,
         CASE WHEN c.status = 'closed' THEN -c.closed_at ELSE c.opened_at END, c.id
       LIMIT ? OFFSET ?`,
      filter.params(f.overdueAt, f.limit, f.offset),
    );
    return rows.map(toCaseSummary);
  }

  async detail(id: string, scope: IssuerScope): Promise<CaseDetail | undefined> {
    const filter = new SqlFilter();
    filter.add('c.id = ?', id);
    filter.scope(CASE_ISSUER, scope);
    const [r] = await this.#sql.all(
      `SELECT ${CASE_COLUMNS} FROM cases c ${filter.where}`,
      filter.params(),
    );
    if (!r) return undefined;
    const attempts = await this.#sql.all(
      `SELECT ${CASE_ATTEMPT_COLUMNS} FROM case_attempts ca
       JOIN notifications n ON n.id = ca.notification_id
       LEFT JOIN risk_assessments r ON r.notification_id = ca.notification_id
       LEFT JOIN risk_alerts a ON a.notification_id = ca.notification_id
       WHERE ca.case_id = ? ORDER BY n.received_at, n.id`,
      [id],
    );
    const notes = await this.#sql.all(
      'SELECT seq, at, author, kind, text, detail FROM case_notes WHERE case_id = ? ORDER BY seq',
      [id],
    );
    return {
      ...toCaseSummary(r),
      attempts: attempts.map(toCaseAttempt),
      notes: notes.map(toCaseNote),
    };
  }

  /** The case holding an attempt, if any. */
  async caseOf(notificationId: string): Promise<string | undefined> {
    const [r] = await this.#sql.all<{ case_id: string }>(
      'SELECT case_id FROM case_attempts WHERE notification_id = ?',
      [notificationId],
    );
    return r?.case_id;
  }

  assign(
    id: string,
    scope: IssuerScope,
    assignee: string | null,
    at: number,
    by: string,
  ): Promise<CaseOutcome> {
    return this.#sql.transaction(() => inScope(id, scope, assignCase(id, assignee, at, by)));
  }

  addNote(
    id: string,
    scope: IssuerScope,
    text: string,
    at: number,
    by: string,
  ): Promise<CaseOutcome> {
    return this.#sql.transaction(() => inScope(id, scope, addCaseNote(id, text, at, by)));
  }

  close(
    id: string,
    scope: IssuerScope,
    disposition: Disposition,
    note: string,
    at: number,
    by: string,
  ): Promise<CaseOutcome> {
    return this.#sql.transaction(() =>
      inScope(id, scope, closeCase(id, disposition, note, at, by)),
    );
  }

  /** Records a cardholder's answer once (see `recordAnswer`); wakes the delivery worker. */
  async answer(req: AnswerRequest): Promise<AnswerOutcome> {
    const sinks = this.#sinks;
    const out = await this.#sql.transaction(function* (): SqlScript<AnswerOutcome> {
      if (!(yield* alertInScope(req.alertId, req.scope)))
        return { ok: false, code: 'ALERT_NOT_FOUND' };
      return yield* recordAnswer(req, sinks);
    });
    if (out.ok && out.events > 0) this.#onQueued?.();
    return out;
  }

  /**
   * Assessed attempts received at or after `since`, oldest first, after the keyset `after`, with
   * the disposition of their case and their alert's answer.
   */
  async labelled(
    since: number,
    limit: number,
    after?: { receivedAt: number; id: string },
  ): Promise<LabelledAssessment[]> {
    const rows = await this.#sql.all(
      `SELECT ${LABELLED_COLUMNS} FROM risk_assessments r
       LEFT JOIN case_attempts ca ON ca.notification_id = r.notification_id
       LEFT JOIN cases c ON c.id = ca.case_id
       LEFT JOIN risk_alerts a ON a.notification_id = r.notification_id
       WHERE r.received_at >= ? AND (r.received_at > ? OR (r.received_at = ? AND r.notification_id > ?))
       ORDER BY r.received_at, r.notification_id LIMIT ?`,
      [since, after?.receivedAt ?? -1, after?.receivedAt ?? -1, after?.id ?? '', limit],
    );
    return rows.map(toLabelled);
  }
}

/** Runs a change of a case only when the case is one of the scope's issuers'. */
function* inScope(
  id: string,
  scope: IssuerScope,
  change: SqlScript<CaseOutcome>,
): SqlScript<CaseOutcome> {
  if (!(yield* caseInScope(id, scope))) return { ok: false, code: 'NOT_FOUND' };
  return yield* change;
}
