import type { Static } from '@sinclair/typebox';
import type { EvaluationReport } from '../api/api-schemas.js';
import type { BacktestReport } from '../risk/risk-backtest.js';
import type { Evaluation } from '../risk/risk-evaluation.js';
import { iso } from './iso-time.js';

/**
 * The one public JSON of a risk evaluation: `GET /api/risk/evaluation` and `ctp-notify risk
 * evaluate --format json`. Codes, levels and counts only.
 */
export function presentEvaluation(e: Evaluation): Static<typeof EvaluationReport> {
  return {
    since: iso(e.since),
    attempts: e.attempts,
    labelled: e.labelled,
    fraud: e.fraud,
    legitimate: e.legitimate,
    matrix: e.matrix,
    // Four decimals: a full double's 16 digits would read as a card-number-like digit run.
    reasons: e.reasons.map((r) => ({
      ...r,
      precision: r.precision === null ? null : Math.round(r.precision * 10_000) / 10_000,
    })),
  };
}

/**
 * `ctp-notify risk backtest --format json`: `{attempts, labelled, before, after, changed}` (and
 * `since`, `skipped`, `drift`); attempts are named by notification id only.
 */
export function presentBacktest(r: BacktestReport) {
  return {
    since: iso(r.since),
    attempts: r.attempts,
    labelled: r.labelled,
    skipped: r.skipped,
    drift: r.drift,
    before: r.before,
    after: r.after,
    changed: r.changed.map((c) => ({ id: c.id, from: c.from, to: c.to })),
  };
}
