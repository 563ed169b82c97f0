import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RiskLevel } from '../src/domain/risk-codes.js';
import { DEFAULT_WEIGHTS } from '../src/risk/default-weights.js';
import type { NotificationStore } from '../src/storage/notification-store.js';
import { LABEL_PLAN, labelPopulation } from './risk-labelling.js';
import { type Attempt, rng } from './risk-population.js';

/**
 * The second half of `npm run eval:risk`: the loop closed on the synthetic population. The
 * bank's channel answers alerts and analysts close cases (labels drawn from the truth, with
 * noise, through the admin API); then `ctp-notify risk evaluate` and, for a sweep of
 * CONTACT_MISMATCH weights, `ctp-notify risk backtest`, both as the real CLI. Backtests name
 * attempts by id only; the eval maps the ids back to its own truth to score each candidate.
 */

interface Matrix {
  low: Counts;
  medium: Counts;
  high: Counts;
}
interface Counts {
  fraud: number;
  legitimate: number;
  unlabelled: number;
}

/** CONTACT_MISMATCH weights the backtest sweeps (the previous default was 15). */
export const CONTACT_WEIGHTS = [15, 25, 40, 55];

export interface FeedbackResult {
  lines: string[];
  summary: Record<string, unknown>;
}

export async function runFeedback(o: {
  cli: string;
  dir: string;
  configPath: string;
  liveRisk: Record<string, unknown>;
  adminUrl: string;
  store: NotificationStore;
  /** Notification id → the attempt, with its truth. */
  truth: ReadonlyMap<string, Attempt>;
  levels: ReadonlyMap<string, RiskLevel>;
  seed: number;
}): Promise<FeedbackResult> {
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [o.cli, ...args, '--config', o.configPath], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`ctp-notify ${args.join(' ')}: ${r.status} ${r.stderr}`);
    return r.stdout;
  };
  const operator = (name: string, role: string) =>
    (
      JSON.parse(cli(['operators', 'add', '--name', name, '--role', role, '--format', 'json'])) as {
        apiToken: string;
      }
    ).apiToken;
  const channelToken = operator('eval-channel', 'channel');
  const analystToken = operator('eval-analyst', 'analyst');

  // Every alert handled by the stand-in messaging system (sent, or suppressed within the window).
  const { alerts } = o.store.openRiskStores();
  let rows = await alerts.list(1_000_000);
  for (
    let waited = 0;
    rows.some((a) => a.status === 'pending') && waited < 120_000;
    waited += 250
  ) {
    await new Promise((r) => setTimeout(r, 250));
    rows = await alerts.list(1_000_000);
  }
  const sent = rows.filter((a) => a.status === 'sent' && o.truth.has(a.notificationId));
  const labels = await labelPopulation({
    adminUrl: o.adminUrl,
    channelToken,
    analystToken,
    truth: new Map([...o.truth].map(([id, a]) => [id, a.fraud])),
    alerts: new Map(sent.map((a) => [a.notificationId, a.id])),
    random: rng(o.seed * 7919 + 1),
  });

  const evaluation = JSON.parse(cli(['risk', 'evaluate', '--format', 'json'])) as {
    attempts: number;
    labelled: number;
    fraud: number;
    legitimate: number;
    matrix: Matrix;
    reasons: {
      code: string;
      mode: string;
      fired: number;
      labelled: number;
      precision: number | null;
    }[];
  };
  const lines: string[] = [];
  const pct = (n: number, d: number) =>
    d === 0 ? '   n/a' : `${((100 * n) / d).toFixed(1).padStart(5)}%`;
  lines.push('');
  lines.push(
    `Closing the loop: ${sent.length} alerts sent (one per card per hour); ${labels.answered} answered by the cardholder ` +
      `(${(100 * LABEL_PLAN.answerRate).toFixed(0)}% answer, ${(100 * LABEL_PLAN.wrongAnswer).toFixed(0)}% wrongly: ${labels.wrongAnswers}), ` +
      `${labels.closed} cases closed by analysts (${labels.wrongDispositions} wrongly)`,
  );
  lines.push(
    `ctp-notify risk evaluate: ${evaluation.attempts} attempts, ${evaluation.labelled} labelled (${evaluation.fraud} fraud, ${evaluation.legitimate} legitimate)`,
  );
  lines.push(
    `${''.padEnd(12)}${['fraud', 'legitimate', 'unlabelled', 'precision'].map((h) => h.padStart(12)).join('')}`,
  );
  for (const l of ['low', 'medium', 'high'] as const) {
    const c = evaluation.matrix[l];
    lines.push(
      `  ${l.padEnd(10)}${[c.fraud, c.legitimate, c.unlabelled].map((n) => String(n).padStart(12)).join('')}${pct(c.fraud, c.fraud + c.legitimate).padStart(12)}`,
    );
  }
  lines.push('  per reason code (active): fired, labelled, precision');
  for (const r of evaluation.reasons.filter((x) => x.mode === 'active'))
    lines.push(
      `    ${r.code.padEnd(22)}${String(r.fired).padStart(6)}${String(r.labelled).padStart(8)}   ${r.precision === null ? '   n/a' : `${(100 * r.precision).toFixed(1).padStart(5)}%`}`,
    );

  // The sweep: what each CONTACT_MISMATCH weight would have done, against truth and labels.
  const rules = (o.liveRisk.rules ?? {}) as Record<string, unknown>;
  const live =
    (rules.CONTACT_MISMATCH as { weight?: number } | undefined)?.weight ??
    DEFAULT_WEIGHTS.CONTACT_MISMATCH;
  lines.push('');
  lines.push(
    `ctp-notify risk backtest, CONTACT_MISMATCH weight (live: ${live}); truth columns count attempts at high`,
  );
  lines.push(
    `  weight  changed  knows-name  planted fraud  legitimate  stale contacts  labelled fraud  labelled legit`,
  );
  const sweep: Record<string, unknown>[] = [];
  const all = [...o.truth];
  const is = (a: Attempt, kind: string) => a.kind.split('+').includes(kind);
  for (const weight of CONTACT_WEIGHTS) {
    const file = join(o.dir, `candidate-contact-${weight}.json`);
    writeFileSync(
      file,
      JSON.stringify({ ...o.liveRisk, rules: { ...rules, CONTACT_MISMATCH: { weight } } }),
    );
    const bt = JSON.parse(cli(['risk', 'backtest', '--risk-config', file, '--format', 'json'])) as {
      drift: number;
      after: Matrix;
      changed: { id: string; to: RiskLevel }[];
    };
    const moved = new Map(bt.changed.map((c) => [c.id, c.to]));
    const high = (f: (a: Attempt) => boolean) => {
      const rs = all.filter(([, a]) => f(a));
      const n = rs.filter(([id]) => (moved.get(id) ?? o.levels.get(id)) === 'high').length;
      return { n, of: rs.length };
    };
    const kn = high((a) => a.kind === 'knows-name');
    const planted = high((a) => a.fraud && !a.hard);
    const legit = high((a) => !a.fraud);
    const stale = high((a) => !a.fraud && is(a, 'stale-contacts'));
    const lf = bt.after.high.fraud;
    const ll = bt.after.high.legitimate;
    const totalFraud = ['low', 'medium', 'high'].reduce(
      (s, l) => s + bt.after[l as keyof Matrix].fraud,
      0,
    );
    const totalLegit = ['low', 'medium', 'high'].reduce(
      (s, l) => s + bt.after[l as keyof Matrix].legitimate,
      0,
    );
    lines.push(
      `  ${String(weight).padStart(6)}${String(bt.changed.length).padStart(9)}  ${`${kn.n}/${kn.of}`.padStart(10)}  ${pct(planted.n, planted.of).padStart(13)}  ${pct(legit.n, legit.of).padStart(10)}  ${`${stale.n}/${stale.of}`.padStart(14)}  ${pct(lf, totalFraud).padStart(14)}  ${pct(ll, totalLegit).padStart(14)}`,
    );
    sweep.push({
      weight,
      drift: bt.drift,
      changed: bt.changed.length,
      knowsNameHigh: kn.n,
      knowsName: kn.of,
      plantedFraudHigh: planted.n / planted.of,
      legitimateHigh: legit.n / legit.of,
      staleContactsHigh: stale.n,
      staleContacts: stale.of,
      labelledFraudHigh: totalFraud ? lf / totalFraud : null,
      labelledLegitimateHigh: totalLegit ? ll / totalLegit : null,
    });
  }
  return {
    lines,
    summary: {
      labels,
      evaluation: { labelled: evaluation.labelled, matrix: evaluation.matrix },
      sweep,
    },
  };
}
