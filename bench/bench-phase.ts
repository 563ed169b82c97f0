import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchKeys } from './bench-keys.js';
import { createBenchDatabase } from './bench-storage.js';
import type { BenchToken } from './bench-token.js';
import { type LatencySummary, summarise } from './latency-stats.js';
import type { DriveRequest, DriveResult } from './load-driver.js';
import { sampleTree, type TreeSample } from './process-tree.js';
import { freePort, type RunningServer, startServer, writeServiceConfig } from './server-process.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const CLI = here('../src/cli.js');
const PEER = here('./peer-receiver.js');
const CEILING = here('./ceiling-receiver.js');
export const NOTIFICATION_PATH =
  '/vtis/v1/tokenRequestors/40010030273/cardEnrollment/notification?eventType=CTP_ENROLLMENT_ATTEMPT';

export interface PhaseOptions {
  name: string;
  receiver: 'service' | 'peer' | 'ceiling';
  /** Service only: risk assessment on (the default configuration) or off. */
  risk?: boolean;
  /** Service only: the issuer key in this token instead of its PEM file. */
  token?: BenchToken;
  keys: BenchKeys;
  /**
   * The notification set file; lines [0, warmup) warm up, [warmup, warmup + count) are measured.
   */
  file: string;
  warmup: number;
  count: number;
  workers: number;
  /** "sqlite" or a postgres:// admin URL (the peer is always on SQLite). */
  storage: string;
  workDir: string;
  concurrency: number;
  /** Open loop at this many requests/s; closed loop at `concurrency` when absent. */
  rate?: number;
  /** Write V8 CPU profiles of every server process into this folder. */
  cpuProfileDir?: string;
  /** Sample the server's memory every this many ms (soak). */
  memorySampleMs?: number;
  log: (s: string) => void;
}

export interface MemorySample {
  atSeconds: number;
  rssBytes: number;
}

export interface PhaseResult {
  receiver: 'service' | 'peer' | 'ceiling';
  /** Service: whether risk assessment ran. */
  risk: boolean | null;
  /** Service: where the issuer key was (a PEM file, or SoftHSM2 with mechanism rsa-raw). */
  issuerKey: 'file' | 'softhsm-rsa-raw' | null;
  workers: number;
  storage: string;
  loop: string;
  offeredRatePerSecond: number | null;
  notifications: number;
  /** Measured in this many stretches (turns with other receivers), or 1. */
  stretches: number;
  accepted: number;
  statuses: Record<string, number>;
  errors: number;
  firstError: string | null;
  durationSeconds: number;
  throughputPerSecond: number;
  latencyMs: LatencySummary;
  serverCpuSeconds: number;
  /** Of which kernel time (stime). */
  serverSystemCpuSeconds: number;
  /** Per process, primary first. */
  serverCpuSecondsByProcess: number[];
  /**
   * Seconds after the last answer until the server went quiet: work it deferred past Visa's 200
   * (risk assessments, WAL checkpoints) is counted in its CPU, not left out.
   */
  settleSeconds: number;
  perCpuSecond: number;
  serverProcesses: number;
  rss: {
    afterStartBytes: number;
    afterWarmupBytes: number;
    endBytes: number;
    peakBytes: number;
    /** Per process (primary first): after warm-up and at the end. */
    byProcess: { pid: number; afterWarmupBytes: number; endBytes: number }[];
    samples: MemorySample[];
  };
  /** CPU the load generator used (it runs on the same machine). */
  driverCpuSeconds: number;
}

/** Runs the load generator in its own process and waits for its report. */
export function drive(req: DriveRequest): Promise<DriveResult> {
  return new Promise((resolve, reject) => {
    const child = fork(here('./load-driver.js'), [], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m: { ok: boolean; result?: DriveResult; error?: string }) =>
      m.ok ? resolve(m.result!) : reject(new Error(m.error)),
    );
    child.once('error', reject);
    child.once(
      'exit',
      (code) => code !== 0 && reject(new Error(`load driver exited with ${code}`)),
    );
    child.send(req);
  });
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A receiver under test: its process tree, its fresh database, where to send. */
interface Receiver {
  o: PhaseOptions;
  server: RunningServer;
  drop: () => Promise<void>;
  target: Pick<DriveRequest, 'origin' | 'path' | 'file'>;
  afterStart: TreeSample;
  afterWarmup: TreeSample;
}

/** Starts the receiver on a fresh database and sends it the warm-up notifications. */
async function startReceiver(o: PhaseOptions): Promise<Receiver> {
  const dir = join(o.workDir, o.name);
  mkdirSync(dir, { recursive: true });
  const db = await createBenchDatabase(o.receiver === 'service' ? o.storage : 'sqlite', dir);
  const port = await freePort();
  const nodeArgs = o.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${join(o.cpuProfileDir, o.name)}`]
    : [];
  const args =
    o.receiver === 'service'
      ? [
          CLI,
          'serve',
          '--config',
          writeServiceConfig(dir, o.keys, db.url, port, o.risk ?? true, o.token),
          '--workers',
          String(o.workers),
        ]
      : o.receiver === 'peer'
        ? [
            PEER,
            '--db',
            db.sqlitePath!,
            '--port',
            String(port),
            '--workers',
            String(o.workers),
            '--issuer-key',
            o.keys.issuerKeyFile,
            '--visa-spki',
            o.keys.visaSpkiFile,
          ]
        : [
            CEILING,
            '--port',
            String(port),
            '--workers',
            String(o.workers),
            '--issuer-key',
            o.keys.issuerKeyFile,
          ];
  let server: RunningServer;
  try {
    server = await startServer(
      args,
      join(dir, 'server.log'),
      port,
      nodeArgs,
      o.token ? { SOFTHSM2_CONF: o.token.conf } : {},
    );
  } catch (e) {
    await db.drop();
    throw e;
  }
  const stopAndDrop = async () => {
    await server.stop();
    await db.drop();
  };
  try {
    const target = { origin: server.origin, path: NOTIFICATION_PATH, file: o.file };
    const afterStart = sampleTree(server.pid);
    if (o.warmup > 0) {
      const w = await drive({
        ...target,
        from: 0,
        count: o.warmup,
        mode: 'closed',
        concurrency: o.concurrency,
      });
      if ((w.statuses['200'] ?? 0) !== o.warmup) {
        throw new Error(
          `${o.name} warm-up: ${JSON.stringify(w.statuses)}, ${w.errors} errors (${w.firstError ?? 'none'}); see ${server.logFile}`,
        );
      }
      await settle(server.pid);
    }
    return {
      o,
      server,
      drop: stopAndDrop,
      target,
      afterStart,
      afterWarmup: sampleTree(server.pid),
    };
  } catch (e) {
    await stopAndDrop();
    throw e;
  }
}

/** One measured stretch of the stream: CPU from before it until the server is quiet after it. */
interface Stretch {
  drive: DriveResult;
  before: TreeSample;
  after: TreeSample;
  settleSeconds: number;
}

async function measureStretch(
  rc: Receiver,
  from: number,
  count: number,
  samples?: MemorySample[],
): Promise<Stretch> {
  const { o, server } = rc;
  const before = sampleTree(server.pid);
  const t0 = performance.now();
  const timer =
    samples && o.memorySampleMs
      ? setInterval(
          () =>
            samples.push({
              atSeconds: Math.round((performance.now() - t0) / 1000),
              rssBytes: sum(sampleTree(server.pid).rssBytes),
            }),
          o.memorySampleMs,
        )
      : undefined;
  try {
    const r = await drive({
      ...rc.target,
      from,
      count,
      mode: o.rate ? 'open' : 'closed',
      concurrency: o.concurrency,
      rate: o.rate,
      raw: true,
    });
    const settled = await settle(server.pid);
    if (settled.sample.pids.join() !== before.pids.join())
      throw new Error(
        `${o.name}: server processes changed during the run (a worker died?); see ${server.logFile}`,
      );
    return { drive: r, before, after: settled.sample, settleSeconds: settled.seconds };
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** Sums stretches of one receiver into its phase result. */
function phaseResult(rc: Receiver, stretches: Stretch[], samples: MemorySample[]): PhaseResult {
  const { o } = rc;
  const last = stretches[stretches.length - 1]!;
  const statuses: Record<string, number> = {};
  for (const st of stretches)
    for (const [k, v] of Object.entries(st.drive.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const accepted = statuses['200'] ?? 0;
  const cpu = sum(stretches.map((st) => st.after.cpuSeconds - st.before.cpuSeconds));
  const duration = sum(stretches.map((st) => st.drive.durationSeconds));
  const latencies = Float64Array.from(stretches.flatMap((st) => st.drive.latencies ?? []));
  return {
    receiver: o.receiver,
    risk: o.receiver === 'service' ? (o.risk ?? true) : null,
    issuerKey: o.receiver !== 'service' ? null : o.token ? 'softhsm-rsa-raw' : 'file',
    workers: o.workers,
    storage:
      o.receiver === 'ceiling'
        ? 'none'
        : o.receiver === 'peer' || o.storage === 'sqlite'
          ? 'sqlite'
          : 'postgres',
    loop: o.rate ? 'open' : `closed, concurrency ${o.concurrency}`,
    offeredRatePerSecond: o.rate ?? null,
    notifications: o.count,
    stretches: stretches.length,
    accepted,
    statuses,
    errors: sum(stretches.map((st) => st.drive.errors)),
    firstError: stretches.find((st) => st.drive.firstError)?.drive.firstError ?? null,
    durationSeconds: round(duration, 3),
    throughputPerSecond: Math.round(accepted / duration),
    latencyMs: summarise(latencies),
    serverCpuSeconds: round(cpu, 2),
    serverSystemCpuSeconds: round(
      sum(stretches.map((st) => st.after.systemSeconds - st.before.systemSeconds)),
      2,
    ),
    serverCpuSecondsByProcess: last.after.cpuSecondsByProcess.map((_, i) =>
      round(
        sum(
          stretches.map(
            (st) => st.after.cpuSecondsByProcess[i]! - st.before.cpuSecondsByProcess[i]!,
          ),
        ),
        2,
      ),
    ),
    perCpuSecond: Math.round(accepted / cpu),
    serverProcesses: last.after.pids.length,
    settleSeconds: round(sum(stretches.map((st) => st.settleSeconds)), 1),
    rss: {
      afterStartBytes: sum(rc.afterStart.rssBytes),
      afterWarmupBytes: sum(rc.afterWarmup.rssBytes),
      endBytes: sum(last.after.rssBytes),
      peakBytes: Math.max(...samples.map((x) => x.rssBytes), sum(last.after.rssBytes)),
      byProcess: last.after.pids.map((pid, i) => ({
        pid,
        afterWarmupBytes: rc.afterWarmup.rssBytes[i]!,
        endBytes: last.after.rssBytes[i]!,
      })),
      samples,
    },
    driverCpuSeconds: round(sum(stretches.map((st) => st.drive.driverCpuSeconds)), 2),
  };
}

/**
 * One measured phase: a fresh database, the receiver started as its own process tree, a
 * warm-up, then the measured stream; server CPU is utime + stime of every process in the tree
 * (cluster primary and workers) read from /proc before the stream and once the server is quiet
 * after it.
 */
export async function runPhase(o: PhaseOptions): Promise<PhaseResult> {
  const rc = await startReceiver(o);
  try {
    o.log(
      `${o.name}: ${o.count} notifications, ${o.rate ? `open loop at ${o.rate}/s` : `closed loop, concurrency ${o.concurrency}`}`,
    );
    const samples: MemorySample[] = [{ atSeconds: 0, rssBytes: sum(rc.afterWarmup.rssBytes) }];
    const st = await measureStretch(rc, o.warmup, o.count, samples);
    samples.push({
      atSeconds: Math.round(st.drive.durationSeconds + st.settleSeconds),
      rssBytes: sum(st.after.rssBytes),
    });
    return phaseResult(rc, [st], samples);
  } finally {
    await rc.drop();
  }
}

/**
 * Several receivers measured in turns on the same stream, `stretch` notifications at a time
 * (order reversed every round), all started and warmed first. On a machine shared with other
 * work the capacity left to the bench drifts over minutes; in turns, every receiver meets the
 * same drift, so their ratios do not depend on which ran during a busy minute. `afterRound`
 * runs after each round, every receiver quiet (the bound is sampled there).
 */
export async function runInterleaved(
  list: PhaseOptions[],
  stretch: number,
  afterRound?: () => void,
): Promise<PhaseResult[]> {
  const started: Receiver[] = [];
  try {
    for (const o of list) started.push(await startReceiver(o));
    const stretches: Stretch[][] = started.map(() => []);
    const { warmup, count, log } = list[0]!;
    log(
      `${list.map((o) => o.name).join(', ')}: ${count} notifications each, in turns of ${stretch}`,
    );
    for (let from = warmup, round_ = 0; from < warmup + count; from += stretch, round_++) {
      const n = Math.min(stretch, warmup + count - from);
      const order = started.map((_, i) => i);
      if (round_ % 2 === 1) order.reverse();
      for (const i of order) stretches[i]!.push(await measureStretch(started[i]!, from, n));
      afterRound?.();
    }
    return started.map((rc, i) => phaseResult(rc, stretches[i]!, []));
  } finally {
    for (const rc of started) await rc.drop();
  }
}

/**
 * Waits until the server's process tree uses under 5 % of a core over half a second (at most
 * 120 s), and returns the sample taken then.
 */
async function settle(pid: number): Promise<{ sample: TreeSample; seconds: number }> {
  const t0 = performance.now();
  let last = sampleTree(pid);
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const now = sampleTree(pid);
    if (now.cpuSeconds - last.cpuSeconds < 0.025 || performance.now() - t0 > 120_000) {
      // The quiet half second itself is not the server's work: report the sample from before it.
      return {
        sample: now.cpuSeconds - last.cpuSeconds < 0.025 ? last : now,
        seconds: (performance.now() - t0) / 1000 - 0.5,
      };
    }
    last = now;
  }
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
