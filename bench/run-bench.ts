/**
 * `npm run bench`: the service as a bank runs it, against the RSA bound, a peer receiver and a
 * ceiling, and under overload. Rows (docs/performance.md explains each):
 *
 *   1 receive path (risk off, no sinks)        2 bank configuration        3 mutual TLS variants
 *   4 PostgreSQL, two instances                5 overload, 2× and 4×      6 memory over time
 *
 *   --quick                 rows 1 (with the peer), 2 and 5 at 2× for 10 s: about two minutes
 *   --rows LIST             which rows, e.g. 1,2,5 (default all)
 *   --notifications N       measured notifications per receiver in rows 1-4 (default 20000)
 *   --warmup N              sent first to each receiver, not measured (default 4000)
 *   --storage sqlite|postgres://…   the store of rows 1-3, 5, 6 (default sqlite in a temp folder)
 *   --postgres URL          row 4's server, an admin database URL (default the local one;
 *                           row 4 is skipped when nothing answers there)
 *   --workers N             server processes per receiver (default: cores)
 *   --concurrency N         requests in flight in the closed loop (default 32)
 *   --overload-factors L    row 5's factors of row 2's maximum (default 2,4)
 *   --overload-seconds S    each (default 60)
 *   --overload-connection L how row 5's client connects, a list of keep-alive (a pool of 512
 *                           connections), per-request (a new plain connection each), mtls-full
 *                           (a new mutual-TLS connection each, full handshake), mtls-resumed
 *                           (the same, resuming the session); default all four (--quick:
 *                           keep-alive,per-request)
 *   --max-throughput N      row 2's maximum, when row 5 runs without row 2
 *   --memory-seconds S      row 6's length (default 300), --memory-rate R its rate (default 100)
 *   --no-peer, --no-ceiling, --no-fixed-rate   skip those phases
 *   --no-token                       skip row 1 with the issuer key in SoftHSM2 (rsa-raw; skipped
 *                                    anyway without softhsm2)
 *   --parts                 row 2 also without alerts, without the sink, and without both, in
 *                           the same turns: what each part of the bank configuration costs
 *   --traces                rows 1 and 2 also with traces exported (sampling 1.0), in the same
 *                           turns: what tracing costs
 *   --profile DIR           V8 CPU profiles of every server process into DIR
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { benchFixtures } from './bench-fixtures.js';
import { benchKeys } from './bench-keys.js';
import { type PhaseBase, runMax } from './bench-max.js';
import {
  OVERLOAD_CONNECTION_KINDS,
  type OverloadConnection,
  runOverload,
} from './bench-overload.js';
import { round, runPhase } from './bench-phase.js';
import { type BenchRun, machine, runRows, table, targets } from './bench-report.js';
import { BANK } from './bench-rows.js';
import { runSoak } from './bench-soak.js';
import { benchToken, softHsmInstalled } from './bench-token.js';
import { notificationSet } from './notification-set.js';
import { scriptArgs } from './script-args.js';

const USAGE = `usage: npm run bench -- [--quick] [--rows 1,2,3,4,5,6] [--notifications N] [--warmup N]
  [--storage sqlite|postgres://…] [--postgres URL] [--workers N] [--concurrency N]
  [--overload-factors 2,4] [--overload-seconds S]
  [--overload-connection keep-alive,per-request,mtls-full,mtls-resumed]
  [--max-throughput N]
  [--memory-seconds S] [--memory-rate R] [--no-peer] [--no-ceiling] [--no-fixed-rate] [--no-token] [--parts] [--traces] [--profile DIR]
(the options are explained at the top of bench/run-bench.ts)`;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const a = scriptArgs(USAGE, {
  quick: { type: 'boolean', default: false },
  rows: { type: 'string' },
  notifications: { type: 'string' },
  warmup: { type: 'string' },
  storage: { type: 'string', default: 'sqlite' },
  postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  workers: { type: 'string', default: String(availableParallelism()) },
  concurrency: { type: 'string', default: '32' },
  'overload-factors': { type: 'string' },
  'overload-seconds': { type: 'string' },
  'overload-connection': { type: 'string' },
  'max-throughput': { type: 'string' },
  'memory-seconds': { type: 'string', default: '300' },
  'memory-rate': { type: 'string', default: '100' },
  'no-peer': { type: 'boolean', default: false },
  'no-ceiling': { type: 'boolean', default: false },
  'no-fixed-rate': { type: 'boolean', default: false },
  'no-token': { type: 'boolean', default: false },
  parts: { type: 'boolean', default: false },
  traces: { type: 'boolean', default: false },
  profile: { type: 'string' },
});
const int = (v: string | undefined, name: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const list = (v: string, name: string) => v.split(',').map((x) => int(x.trim(), name));
const quick = a.quick;
const rows = list(a.rows ?? (quick ? '1,2,5' : '1,2,3,4,5,6'), 'rows');
if (rows.some((r) => r > 6)) throw new Error('--rows are 1 to 6');
const factors = list(a['overload-factors'] ?? (quick ? '2' : '2,4'), 'overload-factors');
const overloadSeconds = int(a['overload-seconds'] ?? (quick ? '10' : '60'), 'overload-seconds');
const overloadConnections = (
  a['overload-connection'] ??
  (quick ? 'keep-alive,per-request' : OVERLOAD_CONNECTION_KINDS.join(','))
)
  .split(',')
  .map((x) => x.trim()) as OverloadConnection[];
if (overloadConnections.some((c) => !OVERLOAD_CONNECTION_KINDS.includes(c)))
  throw new Error(`--overload-connection takes a list of ${OVERLOAD_CONNECTION_KINDS.join(', ')}`);
const memorySeconds = int(a['memory-seconds'], 'memory-seconds');
const memoryRate = int(a['memory-rate'], 'memory-rate');
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

const cacheDir = join(repo, 'bench/.cache');
const keys = benchKeys(join(cacheDir, 'keys'));
const workDir = mkdtempSync(join(tmpdir(), 'ctp-bench-'));
const warmup = int(a.warmup ?? (quick ? '1000' : '4000'), 'warmup');
const count = int(a.notifications ?? (quick ? '4000' : '20000'), 'notifications');
const needs = (n: number) => notificationSet(keys, n, cacheDir, log);
const postgres = rows.includes(4) && (await reachable(a.postgres)) ? a.postgres : undefined;
if (rows.includes(4) && !postgres) log(`row 4 skipped: no PostgreSQL answers at ${a.postgres}`);
const fixtures = await benchFixtures(
  keys,
  cacheDir,
  a.storage,
  {
    // The traces rows send their spans to the bank's receiver process.
    bank: rows.some((r) => r !== 1) || a.traces,
    tls:
      rows.includes(3) ||
      (rows.includes(5) && overloadConnections.some((c) => c.startsWith('mtls'))),
    postgres,
  },
  log,
);
const base: PhaseBase = {
  fixtures,
  keys,
  file: await needs(warmup + Math.max(count, rows.includes(6) ? memoryRate * memorySeconds : 0)),
  warmup,
  count,
  workers: int(a.workers, 'workers'),
  storage: a.storage,
  workDir,
  concurrency: int(a.concurrency, 'concurrency'),
  ...(a.profile ? { cpuProfileDir: resolve(a.profile) } : {}),
  log,
};
const args = process.argv.slice(2).join(' ');
const command = args ? `npm run bench -- ${args}` : 'npm run bench';
const resultsDir = join(repo, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const m = machine();

const run: BenchRun = {
  bound: undefined,
  max: new Map(),
  fixed: new Map(),
  postgres: undefined,
  overload: [],
  memory: undefined,
};
try {
  if (rows.some((r) => r <= 3)) {
    const r = await runMax(base, {
      rows,
      peer: !a['no-peer'],
      ceiling: !a['no-ceiling'] && !quick,
      fixedRate: !a['no-fixed-rate'] && !quick,
      parts: a.parts,
      traces: a.traces,
      token:
        !a['no-token'] && !quick && softHsmInstalled()
          ? benchToken(join(workDir, 'softhsm'), keys)
          : undefined,
    });
    Object.assign(run, { bound: r.bound, max: r.max, fixed: r.fixed });
  }
  if (postgres) {
    run.postgres = await runPhase({
      ...base,
      storage: postgres,
      name: 'postgres',
      receiver: 'service',
      service: { ...BANK, instances: 2 },
    });
  }
  if (rows.includes(5)) {
    const maxTp = a['max-throughput']
      ? int(a['max-throughput'], 'max-throughput')
      : run.max.get('bank')?.throughputPerSecond;
    if (maxTp === undefined) throw new Error('row 5 needs row 2, or --max-throughput');
    for (const connection of overloadConnections)
      for (const f of factors) {
        const probes = 2 * 200;
        await needs(warmup + probes + Math.round(maxTp * f) * overloadSeconds);
        run.overload.push(await runOverload(base, f, maxTp, overloadSeconds, connection));
      }
  }
  if (rows.includes(6)) run.memory = await runSoak(base, memoryRate, memorySeconds);
} finally {
  await fixtures.close();
  // BENCH_KEEP_WORKDIR=1 keeps the servers' logs for a look after a failed run.
  if (process.env.BENCH_KEEP_WORKDIR) process.stderr.write(`bench: kept ${workDir}\n`);
  else rmSync(workDir, { recursive: true, force: true });
}

const judged = targets(run);
const result = {
  command,
  date: new Date().toISOString(),
  rows,
  machine: { ...m, loadAverage1m: { ...m.loadAverage1m, end: round(loadavg()[0]!, 2) } },
  bound: run.bound ?? null,
  targets: judged,
  max: Object.fromEntries(run.max),
  fixedRate: Object.fromEntries(run.fixed),
  postgres: run.postgres ?? null,
  overload: run.overload,
  memory: run.memory ?? null,
};
const out = join(resultsDir, quick ? 'latest-quick.json' : 'latest.json');
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `\n${command}  (${m.cores} cores, ${m.cpuModel}, Node ${m.node})\n${table(runRows(run, judged))}\n  written: ${out}\n`,
);

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}
