import { loadRiskConfig } from '../config/parse-risk-config.js';
import { RISK_LEVELS } from '../domain/risk-codes.js';
import { presentBacktest, presentEvaluation } from '../presenters/evaluation-presenter.js';
import { backtestRisk } from '../risk/risk-backtest.js';
import {
  type ConfusionMatrix,
  evaluateRisk,
  type LabelledReader,
} from '../risk/risk-evaluation.js';
import { openStore } from '../storage/open-store.js';
import { loadConfigFrom, parse, printTable, subcommandMessage, UsageError } from './cli-support.js';

export const riskHelp = `ctp-notify risk evaluate [--config FILE] [--since ISO-TIME] [--format table|json]
ctp-notify risk backtest [--config FILE] --risk-config CANDIDATE.json [--since ISO-TIME]
    [--format table|json] [--limit N]
  Labels are the analysts' dispositions and the cardholders' answers (confirmed_fraud and
  not_recognised are fraud, legitimate and recognised are not; a disposition outranks an answer).
  evaluate: the confusion matrix of assessed level against labels, and per reason code how often
  it fired and its precision on labelled attempts. backtest: re-scores the stored attempts under
  the current risk settings and under CANDIDATE.json (a whole "risk" section), and prints both
  matrices and the attempts whose level changed, by notification id. Nothing live changes.
  --limit caps the changed attempts the table lists (default 50; json lists all).`;

export async function riskCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'evaluate') return evaluate(rest);
  if (sub === 'backtest') return backtest(rest);
  throw new UsageError(subcommandMessage(sub));
}

function sinceFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError('--since must be an ISO time');
  return t;
}

function formatFlag(v: string | undefined): 'table' | 'json' {
  if (v !== 'json' && v !== 'table') throw new UsageError('--format must be json or table');
  return v;
}

async function withLabels<T>(
  configFlag: string | undefined,
  fn: (read: LabelledReader, config: ReturnType<typeof loadConfigFrom>['config']) => Promise<T>,
): Promise<T> {
  const { config } = loadConfigFrom(configFlag);
  const store = await openStore(config.storage);
  try {
    await store.migrate();
    const { cases } = store.openAdminStores();
    return await fn((since, limit, after) => cases.labelled(since, limit, after), config);
  } finally {
    await store.close();
  }
}

const pct = (n: number | null) => (n === null ? '—' : `${(100 * n).toFixed(1)}%`);

async function evaluate(argv: string[]): Promise<number> {
  const f = parse(argv, {
    config: { type: 'string' },
    since: { type: 'string' },
    format: { type: 'string', default: 'table' },
  });
  const format = formatFlag(f.format);
  const since = sinceFlag(f.since);
  const e = await withLabels(f.config, (read) => evaluateRisk(read, since));
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(presentEvaluation(e), null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    `${e.attempts} assessed attempts${f.since ? ` since ${f.since}` : ''}; ${e.labelled} labelled (${e.fraud} fraud, ${e.legitimate} legitimate)\n\n`,
  );
  printMatrix(e.matrix);
  process.stdout.write('\n');
  printTable(
    ['reason code', 'mode', 'fired', 'labelled', 'fraud', 'precision'],
    e.reasons.map((r) => [
      r.code,
      r.mode,
      String(r.fired),
      String(r.labelled),
      String(r.fraud),
      pct(r.precision),
    ]),
    '(no reason fired)',
  );
  return 0;
}

/** Rows: assessed level; columns: labels, and the share of fraud among labelled attempts. */
function printMatrix(m: ConfusionMatrix, title = 'level'): void {
  printTable(
    [title, 'fraud', 'legitimate', 'unlabelled', 'precision'],
    RISK_LEVELS.map((l) => {
      const c = m[l];
      const labelled = c.fraud + c.legitimate;
      return [
        l,
        String(c.fraud),
        String(c.legitimate),
        String(c.unlabelled),
        pct(labelled === 0 ? null : c.fraud / labelled),
      ];
    }),
    '',
  );
}

async function backtest(argv: string[]): Promise<number> {
  const f = parse(argv, {
    config: { type: 'string' },
    'risk-config': { type: 'string' },
    since: { type: 'string' },
    format: { type: 'string', default: 'table' },
    limit: { type: 'string' },
  });
  const format = formatFlag(f.format);
  const since = sinceFlag(f.since);
  if (!f['risk-config']) throw new UsageError('--risk-config CANDIDATE.json is required');
  const limit = f.limit === undefined ? 50 : Number(f.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError('--limit must be an integer ≥ 0');
  const candidate = loadRiskConfig(f['risk-config']);
  const r = await withLabels(f.config, (read, config) =>
    backtestRisk(read, config.risk, candidate, since),
  );
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(presentBacktest(r), null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    `${r.attempts} attempts re-scored${f.since ? ` since ${f.since}` : ''} (${r.labelled} labelled); ` +
      `${r.skipped} skipped (assessed before inputs were stored); ${r.drift} whose stored level differs from the current settings\n\n`,
  );
  process.stdout.write('Before (current settings)\n');
  printMatrix(r.before);
  process.stdout.write(`\nAfter (${f['risk-config']})\n`);
  printMatrix(r.after);
  const moves = new Map<string, number>();
  for (const c of r.changed)
    moves.set(`${c.from} → ${c.to}`, (moves.get(`${c.from} → ${c.to}`) ?? 0) + 1);
  process.stdout.write(
    `\n${r.changed.length} attempts change level${moves.size ? `: ${[...moves].map(([k, n]) => `${k} ${n}`).join(', ')}` : ''}\n`,
  );
  for (const c of r.changed.slice(0, limit))
    process.stdout.write(`  ${c.id}  ${c.from} → ${c.to}\n`);
  if (r.changed.length > limit)
    process.stdout.write(`  … ${r.changed.length - limit} more (--format json lists all)\n`);
  return 0;
}
