import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchKeys } from './bench-keys.js';
import { createBenchDatabase } from './bench-storage.js';
import type { LatencySummary } from './latency-stats.js';
import type { DriveRequest, DriveResult } from './load-driver.js';
import { sampleTree, type TreeSample } from './process-tree.js';
import { freePort, startServer, writeServiceConfig } from './server-process.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const CLI = here('../src/cli.js');
const PEER = here('./peer-receiver.js');
export const NOTIFICATION_PATH = '/vtis/v1/tokenRequestors/40010030273/cardEnrollment/notification?eventType=CTP_ENROLLMENT_ATTEMPT';

export interface PhaseOptions {
  name: string;
  receiver: 'service' | 'peer';
  /** Service only: risk assessment on (the default configuration) or off. */
  risk?: boolean;
  keys: BenchKeys;
  /** The notification set file; lines [0, warmup) warm up, [warmup, warmup + count) are measured. */
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
  receiver: 'service' | 'peer';
  /** Service: whether risk assessment ran. */
  risk: boolean | null;
  workers: number;
  storage: string;
  loop: string;
  offeredRatePerSecond: number | null;
  notifications: number;
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
    const child = fork(here('./load-driver.js'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m: { ok: boolean; result?: DriveResult; error?: string }) => (m.ok ? resolve(m.result!) : reject(new Error(m.error))));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`load driver exited with ${code}`)));
    child.send(req);
  });
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * One measured phase: a fresh database, the receiver started as its own process tree, a
 * warm-up, then the measured stream; server CPU is utime + stime of every process in the tree
 * (cluster primary and workers) read from /proc before and after the measured stream.
 */
export async function runPhase(o: PhaseOptions): Promise<PhaseResult> {
  const dir = join(o.workDir, o.name);
  mkdirSync(dir, { recursive: true });
  const db = await createBenchDatabase(o.receiver === 'peer' ? 'sqlite' : o.storage, dir);
  const port = await freePort();
  const nodeArgs = o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(o.cpuProfileDir, o.name)}`] : [];
  const args =
    o.receiver === 'service'
      ? [CLI, 'serve', '--config', writeServiceConfig(dir, o.keys, db.url, port, o.risk ?? true), '--workers', String(o.workers)]
      : [PEER, '--db', db.sqlitePath!, '--port', String(port), '--workers', String(o.workers), '--issuer-key', o.keys.issuerKeyFile, '--visa-spki', o.keys.visaSpkiFile];
  const server = await startServer(args, join(dir, 'server.log'), port, nodeArgs);
  try {
    const base = { origin: server.origin, path: NOTIFICATION_PATH, file: o.file };
    const afterStart = sampleTree(server.pid);
    if (o.warmup > 0) {
      const w = await drive({ ...base, from: 0, count: o.warmup, mode: 'closed', concurrency: o.concurrency });
      if ((w.statuses['200'] ?? 0) !== o.warmup) {
        throw new Error(`${o.name} warm-up: ${JSON.stringify(w.statuses)}, ${w.errors} errors (${w.firstError ?? 'none'}); see ${server.logFile}`);
      }
    }
    const before = sampleTree(server.pid);
    const samples: MemorySample[] = [{ atSeconds: 0, rssBytes: sum(before.rssBytes) }];
    const t0 = performance.now();
    const timer = o.memorySampleMs
      ? setInterval(() => samples.push({ atSeconds: Math.round((performance.now() - t0) / 1000), rssBytes: sum(sampleTree(server.pid).rssBytes) }), o.memorySampleMs)
      : undefined;
    o.log(`${o.name}: ${o.count} notifications, ${o.rate ? `open loop at ${o.rate}/s` : `closed loop, concurrency ${o.concurrency}`}`);
    let r: DriveResult;
    let after: TreeSample;
    let settled: { sample: TreeSample; seconds: number };
    try {
      r = await drive({ ...base, from: o.warmup, count: o.count, mode: o.rate ? 'open' : 'closed', concurrency: o.concurrency, rate: o.rate });
      settled = await settle(server.pid);
      after = settled.sample;
    } finally {
      if (timer) clearInterval(timer);
    }
    samples.push({ atSeconds: Math.round((performance.now() - t0) / 1000), rssBytes: sum(after.rssBytes) });
    if (after.pids.join() !== before.pids.join()) throw new Error(`${o.name}: server processes changed during the run (a worker died?); see ${server.logFile}`);
    const accepted = r.statuses['200'] ?? 0;
    const cpu = after.cpuSeconds - before.cpuSeconds;
    return {
      receiver: o.receiver,
      risk: o.receiver === 'service' ? (o.risk ?? true) : null,
      workers: o.workers,
      storage: o.receiver === 'peer' ? 'sqlite' : o.storage === 'sqlite' ? 'sqlite' : 'postgres',
      loop: o.rate ? 'open' : `closed, concurrency ${o.concurrency}`,
      offeredRatePerSecond: o.rate ?? null,
      notifications: o.count,
      accepted,
      statuses: r.statuses,
      errors: r.errors,
      firstError: r.firstError ?? null,
      durationSeconds: round(r.durationSeconds, 3),
      throughputPerSecond: Math.round(accepted / r.durationSeconds),
      latencyMs: r.latencyMs,
      serverCpuSeconds: round(cpu, 2),
      serverSystemCpuSeconds: round(after.systemSeconds - before.systemSeconds, 2),
      serverCpuSecondsByProcess: after.cpuSecondsByProcess.map((c, i) => round(c - before.cpuSecondsByProcess[i]!, 2)),
      perCpuSecond: Math.round(accepted / cpu),
      serverProcesses: after.pids.length,
      settleSeconds: round(settled.seconds, 1),
      rss: {
        afterStartBytes: sum(afterStart.rssBytes),
        afterWarmupBytes: sum(before.rssBytes),
        endBytes: sum(after.rssBytes),
        peakBytes: Math.max(...samples.map((s) => s.rssBytes)),
        byProcess: after.pids.map((pid, i) => ({ pid, afterWarmupBytes: before.rssBytes[i]!, endBytes: after.rssBytes[i]! })),
        samples,
      },
      driverCpuSeconds: round(r.driverCpuSeconds, 2),
    };
  } finally {
    await server.stop();
    await db.drop();
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
      return { sample: now.cpuSeconds - last.cpuSeconds < 0.025 ? last : now, seconds: (performance.now() - t0) / 1000 - 0.5 };
    }
    last = now;
  }
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
