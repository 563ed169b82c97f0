import type { Config } from '../config/config-schema.js';
import type { RiskLevel } from '../domain/risk-codes.js';
import { assessRisk } from './risk-engine.js';
import {
  type ConfusionMatrix,
  count,
  emptyMatrix,
  type LabelledReader,
  labelledAttempts,
  labelOf,
} from './risk-evaluation.js';

export interface BacktestReport {
  /** Received at or after (ms); null: everything stored. */
  since: number | null;
  /** Attempts re-scored. */
  attempts: number;
  /** Of those, labelled (a disposition or an answer). */
  labelled: number;
  /** Assessed before inputs were stored: not re-scored. */
  skipped: number;
  /**
   * Attempts whose level under the current settings differs from the stored one: 0 unless the
   * live `risk` configuration changed since they were assessed.
   */
  drift: number;
  /** Under the current `risk` settings. */
  before: ConfusionMatrix;
  /** Under the candidate. */
  after: ConfusionMatrix;
  /** By notification id only: never by card, name or contact. */
  changed: { id: string; from: RiskLevel; to: RiskLevel }[];
}

/**
 * Re-scores stored attempts from their stored inputs under the current and a candidate `risk`
 * configuration (weights, modes, levels, thresholds) and compares both with the labels. Reads
 * only: nothing live changes. Exact for what the inputs hold; see docs/fraud.md for what a
 * backtest cannot reproduce (a new default country, other windows, the directory as it is now).
 */
export async function backtestRisk(
  read: LabelledReader,
  current: Config['risk'],
  candidate: Config['risk'],
  since?: number,
): Promise<BacktestReport> {
  const r: BacktestReport = {
    since: since ?? null,
    attempts: 0,
    labelled: 0,
    skipped: 0,
    drift: 0,
    before: emptyMatrix(),
    after: emptyMatrix(),
    changed: [],
  };
  for await (const a of labelledAttempts(read, since ?? 0)) {
    if (a.inputs === null) {
      r.skipped++;
      continue;
    }
    const from = assessRisk({ inputs: a.inputs, settings: current }).level;
    const to = assessRisk({ inputs: a.inputs, settings: candidate }).level;
    const label = labelOf(a.disposition, a.answer);
    r.attempts++;
    if (label !== null) r.labelled++;
    if (from !== a.level) r.drift++;
    count(r.before, from, label);
    count(r.after, to, label);
    if (from !== to) r.changed.push({ id: a.notificationId, from, to });
  }
  return r;
}
