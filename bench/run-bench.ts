/**
 * `npm run bench`: the whole path under load, against the RSA bound and a peer receiver.
 *
 *   --mode all|max|fixed-rate|soak   default all: the bound, service and peer at max, then the
 *                                    service at 80 % of its max (and the soak, with --duration)
 *   --notifications N                measured notifications per phase (default 20000)
 *   --warmup N                       extra notifications sent first, not measured (default 4000:
 *                                    the JIT and SQLite's caches settle within a few thousand)
 *   --storage sqlite|postgres://…    the service's store (default sqlite in a temp folder; a
 *                                    postgres URL names an admin database: a fresh database is
 *                                    created per phase and dropped)
 *   --workers N                      server processes (default: cores), for service and peer
 *   --concurrency N                  requests in flight in the closed loop (default 32)
 *   --rate R                         fixed-rate / soak offered rate (default 80 % of max / 100)
 *   --duration S                     soak length in seconds (default 300): with --mode all, the
 *                                    soak runs last and its memory figures join latest.json
 *   --no-peer                        skip the peer
 *   --no-ceiling                     skip the ceiling (bench/ceiling-receiver.ts: the bound's RSA
 *                                    operation alone behind HTTP, the same load)
 *   --no-token                       skip the receive path with the issuer key in SoftHSM2
 *                                    (mechanism rsa-raw; skipped anyway without softhsm2)
 *   --profile DIR                    V8 CPU profiles of every server process into DIR
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchKeys } from './bench-keys.js';
import { type ModeContext, runMaxAndFixedRate, runSoak } from './bench-modes.js';
import type { PhaseOptions } from './bench-phase.js';
import { machine } from './bench-report.js';
import { benchToken, SOFTHSM_MODULE, softHsmInstalled } from './bench-token.js';
import { notificationSet } from './notification-set.js';
import { scriptArgs } from './script-args.js';

const USAGE = `usage: npm run bench -- [--mode all|max|fixed-rate|soak] [--notifications N] [--warmup N]
  [--storage sqlite|postgres://…] [--workers N] [--concurrency N] [--rate R] [--duration S]
  [--no-peer] [--no-ceiling] [--no-token] [--profile DIR]
(the options are explained at the top of bench/run-bench.ts)`;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const a = scriptArgs(USAGE, {
  mode: { type: 'string' },
  notifications: { type: 'string', default: '20000' },
  warmup: { type: 'string', default: '4000' },
  storage: { type: 'string', default: 'sqlite' },
  workers: { type: 'string', default: String(availableParallelism()) },
  concurrency: { type: 'string', default: '32' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  'no-peer': { type: 'boolean', default: false },
  'no-ceiling': { type: 'boolean', default: false },
  'no-token': { type: 'boolean', default: false },
  profile: { type: 'string' },
});
const int = (v: string | undefined, name: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const mode = a.mode ?? 'all';
if (!['all', 'max', 'fixed-rate', 'soak'].includes(mode))
  throw new Error('--mode must be all, max, fixed-rate or soak');
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

const cacheDir = join(repo, 'bench/.cache');
const keys = benchKeys(join(cacheDir, 'keys'));
const workDir = mkdtempSync(join(tmpdir(), 'ctp-bench-'));
const warmup = int(a.warmup, 'warmup');
const duration = a.duration ? int(a.duration, 'duration') : 300;
const soakRate = a.rate ? int(a.rate, 'rate') : 100;
const withSoak = mode === 'soak' || (mode === 'all' && a.duration !== undefined);
const count = int(a.notifications, 'notifications');
const soakCount = soakRate * duration;
const file = await notificationSet(
  keys,
  warmup + Math.max(mode === 'soak' ? 0 : count, withSoak ? soakCount : 0),
  cacheDir,
  log,
);
const base: Omit<PhaseOptions, 'name' | 'receiver'> = {
  keys,
  file,
  warmup,
  count,
  workers: int(a.workers, 'workers'),
  storage: a.storage,
  workDir,
  concurrency: int(a.concurrency, 'concurrency'),
  cpuProfileDir: a.profile ? resolve(a.profile) : undefined,
  log,
};
const args = process.argv.slice(2).join(' ');
const command = args ? `npm run bench -- ${args}` : 'npm run bench';
const resultsDir = join(repo, 'bench/results');
mkdirSync(resultsDir, { recursive: true });

const ctx: ModeContext = { base, keys, command, machine: machine(), resultsDir, log };
try {
  if (mode === 'soak') await runSoak({ ...ctx, base: { ...base, count: soakCount } }, soakRate);
  else {
    // --rate is the fixed-rate phase's rate, except in `all` with a soak, where it is the soak's.
    const fixedRate = a.rate && !withSoak ? int(a.rate, 'rate') : undefined;
    const tokenToo = mode !== 'fixed-rate' && !a['no-token'];
    if (tokenToo && !softHsmInstalled())
      log(`no token row: ${SOFTHSM_MODULE} not found (apt-get install softhsm2)`);
    const max = await runMaxAndFixedRate(ctx, mode as 'all' | 'max' | 'fixed-rate', {
      rate: fixedRate,
      peer: !a['no-peer'],
      ceiling: !a['no-ceiling'],
      token:
        tokenToo && softHsmInstalled() ? benchToken(join(workDir, 'softhsm'), keys) : undefined,
    });
    if (withSoak) {
      const memory = await runSoak({ ...ctx, base: { ...base, count: soakCount } }, soakRate);
      const targets = {
        ...(max.result.targets as object),
        memoryFlat: {
          target: 'RSS +<= 5 % over the second half',
          value: memory.growthSecondHalfPercent,
          met: memory.flat,
        },
      };
      writeFileSync(max.file, `${JSON.stringify({ ...max.result, memory, targets }, null, 2)}\n`);
      console.log(
        `  target memoryFlat (RSS +<= 5 % over the second half of ${memory.durationSeconds.toFixed(0)} s)  ${memory.growthSecondHalfPercent} %  ${memory.flat ? 'met' : 'NOT met'}\n  added to ${max.file}\n`,
      );
    }
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
