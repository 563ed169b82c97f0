import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inDirectory } from './bank-directory.js';
import type { BenchFixtures } from './bench-fixtures.js';
import type { BenchKeys } from './bench-keys.js';
import { createBenchDatabase } from './bench-storage.js';
import type { ServerCertKind } from './bench-tls.js';
import type { BenchToken } from './bench-token.js';
import { type LatencySummary, summarise } from './latency-stats.js';
import {
  type DriveRequest,
  type DriveResult,
  OUTCOME,
  type TimelineBucket,
} from './load-driver.js';
import { sampleTree, type TreeSample } from './process-tree.js';
import { freePort, type RunningServer, startServer, writeServiceConfig } from './server-process.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const CLI = here('../src/cli.js');
const PEER = here('./peer-receiver.js');
const CEILING = here('./ceiling-receiver.js');
export const NOTIFICATION_PATH =
  '/vtis/v1/tokenRequestors/40010030273/cardEnrollment/notification?eventType=CTP_ENROLLMENT_ATTEMPT';

/** The service's configuration in a phase. */
export interface ServiceSetup {
  /** Risk assessment on (the default) or off (the receive path). */
  risk: boolean;
  /** The bank configuration: imported directory, alerts and a webhook sink (needs risk). */
  bank: boolean;
  /**
   * Parts of the bank configuration left out, to see what each costs (`npm run bench -- --parts`):
   * `alerts` (no cardholder alerts), `sink` (no webhook sink).
   */
  without?: readonly ('alerts' | 'sink')[] | undefined;
  /** Mutual TLS with this kind of server certificate; absent: plain HTTP. */
  tls?: ServerCertKind | undefined;
  /** Instances of the service on the one database (PostgreSQL only when more than one). */
  instances?: number | undefined;
  /** Merged into the config's `listen`. */
  listen?: Record<string, unknown> | undefined;
  /** The issuer key in this SoftHSM2 token instead of its PEM file. */
  token?: BenchToken | undefined;
  /** Traces exported for every request (sampling 1.0) to the bank's receiver process. */
  traced?: boolean | undefined;
  /**
   * Changes the written config (e.g. the issuer key in another kind of key store for a row of
   * its own): called with the config object before it is written.
   */
  configure?: ((config: Record<string, unknown>) => void) | undefined;
}

/** How the load generator connects. */
export interface ClientSetup {
  /** Path in front of `/vtis/v1/…` (an issuer's endpoint); default none. */
  basePath?: string;
  /** Default keep-alive. */
  connection?: 'keep-alive' | 'per-request';
  /** With TLS and a connection per request: offer the last session ticket (resumption). */
  resume?: boolean;
  /** The client's own deadline per request (a timed-out request counts as not answered). */
  timeoutMs?: number;
  /** Outcomes per bucket of this many ms of send time. */
  timelineMs?: number;
}

export interface PhaseOptions {
  /** Lower case, digits and dashes: it also names the phase's paths on the sink receiver. */
  name: string;
  receiver: 'service' | 'peer' | 'ceiling';
  /** Service only (default: risk on, nothing else). */
  service?: ServiceSetup;
  client?: ClientSetup;
  fixtures: BenchFixtures;
  keys: BenchKeys;
  /**
   * The notification set file; lines [0, warmup) warm up, [warmup, warmup + count) are measured.
   */
  file: string;
  warmup: number;
  count: number;
  /** Server processes per instance (cluster workers when more than one). */
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
  /** Service: its configuration. */
  service: ServiceSetup | null;
  client: ClientSetup;
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
  timeouts: number;
  firstError: string | null;
  durationSeconds: number;
  throughputPerSecond: number;
  /** Answered requests, any status. */
  latencyMs: LatencySummary;
  latencyByStatusMs: Record<string, LatencySummary>;
  serverCpuSeconds: number;
  /** Of which kernel time (stime). */
  serverSystemCpuSeconds: number;
  /** Per process, primary first (instances one after the other). */
  serverCpuSecondsByProcess: number[];
  /**
   * Seconds after the last answer until the server went quiet (and, in the bank configuration,
   * every delivery and alert had arrived): work it deferred past Visa's 200 (risk assessments,
   * deliveries, alerts, WAL checkpoints) is counted in its CPU, not left out.
   */
  settleSeconds: number;
  perCpuSecond: number;
  serverProcesses: number;
  /** Bank configuration: what reached the receiver, and what the accepted stream called for. */
  sinks: { events: number; alerts: number; expectedEvents: number; expectedAlerts: number } | null;
  /** TLS: handshakes the client made, and how many resumed a session. */
  handshakes: { total: number; resumed: number } | null;
  rss: {
    afterStartBytes: number;
    afterWarmupBytes: number;
    endBytes: number;
    peakBytes: number;
    /** Per process (primary first): after warm-up and at the end. */
    byProcess: { pid: number; afterWarmupBytes: number; endBytes: number }[];
    samples: MemorySample[];
  };
  timeline?: TimelineBucket[];
  /** CPU the load generator used (it runs on the same machine). */
  driverCpuSeconds: number;
}

/** Runs the load generator in its own process and waits for its report. */
export function drive(req: DriveRequest): Promise<DriveResult> {
  return new Promise((resolve, reject) => {
    const child = fork(here('./load-driver.js'), [], {
      execArgv: ['--max-old-space-size=4096'],
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

/** A receiver under test: its process trees, its fresh database, where to send. */
export interface Receiver {
  o: PhaseOptions;
  servers: RunningServer[];
  /** The phase's database (`storage.url`). */
  storageUrl: string;
  drop: () => Promise<void>;
  target: Omit<DriveRequest, 'from' | 'count' | 'mode' | 'concurrency'>;
  afterStart: TreeSample;
  afterWarmup: TreeSample;
  /** Deliveries and alerts the accepted notifications so far call for (bank configuration). */
  expected: { events: number; alerts: number };
}

/** CPU and memory of every process of every instance. */
export function sampleServers(servers: readonly RunningServer[]): TreeSample {
  const all = servers.map((s) => sampleTree(s.pid));
  return {
    pids: all.flatMap((t) => t.pids),
    cpuSeconds: sum(all.map((t) => t.cpuSeconds)),
    userSeconds: sum(all.map((t) => t.userSeconds)),
    systemSeconds: sum(all.map((t) => t.systemSeconds)),
    cpuSecondsByProcess: all.flatMap((t) => t.cpuSecondsByProcess),
    rssBytes: all.flatMap((t) => t.rssBytes),
  };
}

function serviceArgs(o: PhaseOptions, dir: string, storageUrl: string, port: number): string[] {
  const s = o.service ?? { risk: true, bank: false };
  const f = o.fixtures;
  const tls = s.tls && f.tls;
  const config = writeServiceConfig(dir, o.keys, storageUrl, port, {
    risk: s.risk,
    bank:
      s.bank && f.bank
        ? {
            receiverUrl: `${f.bank.receiver.url}/${o.name}`,
            webhookSecretFile: f.bank.webhookSecretFile,
          }
        : undefined,
    tls: tls
      ? { cert: tls.server[s.tls!].cert, key: tls.server[s.tls!].key, clientCa: tls.caCert }
      : undefined,
    listen: s.listen,
    token: s.token,
    configure: (config) => {
      if (s.without?.includes('alerts'))
        delete (config.risk as { alert?: unknown } | undefined)?.alert;
      if (s.without?.includes('sink')) delete config.sinks;
      if (s.traced) {
        if (!f.bank) throw new Error(`${o.name}: no receiver for the traces`);
        config.telemetry = {
          enabled: true,
          endpoint: `${f.bank.receiver.url}/v1/traces`,
          samplingRatio: 1,
        };
      }
      s.configure?.(config);
    },
  });
  const workers = Math.max(1, Math.floor(o.workers / (s.instances ?? 1)));
  return [CLI, 'serve', '--config', config, '--workers', String(workers)];
}

/** Starts the receiver on a fresh database and sends it the warm-up notifications. */
export async function startReceiver(o: PhaseOptions): Promise<Receiver> {
  const dir = join(o.workDir, o.name);
  mkdirSync(dir, { recursive: true });
  const service = o.receiver === 'service' ? (o.service ?? { risk: true, bank: false }) : null;
  if (service?.bank && !o.fixtures.bank) throw new Error(`${o.name}: no bank fixtures`);
  const db = await createBenchDatabase(
    service ? o.storage : 'sqlite',
    dir,
    service?.bank ? o.fixtures.bank!.templates : undefined,
  );
  const instances = service?.instances ?? 1;
  const servers: RunningServer[] = [];
  const stopAll = async () => {
    for (const s of servers) await s.stop();
  };
  try {
    for (let i = 0; i < instances; i++) {
      const port = await freePort();
      const idir = instances > 1 ? join(dir, `instance-${i + 1}`) : dir;
      mkdirSync(idir, { recursive: true });
      const nodeArgs = o.cpuProfileDir
        ? ['--cpu-prof', `--cpu-prof-dir=${join(o.cpuProfileDir, o.name)}`]
        : [];
      const args =
        o.receiver === 'service'
          ? serviceArgs(o, idir, db.url, port)
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
      servers.push(
        await startServer(
          args,
          join(idir, 'server.log'),
          port,
          nodeArgs,
          Boolean(service?.tls),
          service?.token ? { SOFTHSM2_CONF: service.token.conf } : {},
        ),
      );
    }
  } catch (e) {
    await stopAll();
    await db.drop();
    throw e;
  }
  const stopAndDrop = async () => {
    await stopAll();
    await db.drop();
  };
  try {
    const tls = service?.tls && o.fixtures.tls;
    const rc: Receiver = {
      o,
      servers,
      storageUrl: db.url,
      drop: stopAndDrop,
      target: {
        origins: servers.map((s) => s.origin),
        path: `${o.client?.basePath ?? ''}${NOTIFICATION_PATH}`,
        file: o.file,
        connection: o.client?.connection ?? 'keep-alive',
        tls: tls
          ? {
              caFile: tls.caCert,
              certFile: tls.clientCert,
              keyFile: tls.clientKey,
              resume: o.client?.resume ?? false,
            }
          : undefined,
        timeoutMs: o.client?.timeoutMs,
      },
      afterStart: sampleServers(servers),
      afterWarmup: sampleServers(servers),
      expected: { events: 0, alerts: 0 },
    };
    if (o.warmup > 0) {
      const w = await drive({
        ...rc.target,
        from: 0,
        count: o.warmup,
        mode: 'closed',
        // Well within every admission limit, on a slow machine too: the warm-up is not an
        // overload, and a request shed past its queue deadline would fail it.
        concurrency: Math.min(o.concurrency, 8),
      });
      if ((w.statuses['200'] ?? 0) !== o.warmup) {
        throw new Error(
          `${o.name} warm-up: ${JSON.stringify(w.statuses)}, ${w.errors} errors, ${w.timeouts} timeouts (${w.firstError ?? 'none'}); see ${servers[0]!.logFile}`,
        );
      }
      expect(rc, 0, w.outcomes);
      await settle(rc);
    }
    rc.afterWarmup = sampleServers(servers);
    return rc;
  } catch (e) {
    await stopAndDrop();
    throw e;
  }
}

/** Adds what the accepted ones among notifications [from, …) call for to `rc.expected`. */
function expect(rc: Receiver, from: number, outcomes: string): void {
  if (!rc.o.service?.bank) return;
  const without = rc.o.service.without ?? [];
  for (let i = 0; i < outcomes.length; i++) {
    if (outcomes[i] !== OUTCOME.ok) continue;
    if (!without.includes('sink')) rc.expected.events++;
    if (!without.includes('alerts') && inDirectory(from + i)) rc.expected.alerts++;
  }
}

/** One measured stretch of the stream: CPU from before it until the server is quiet after it. */
export interface Stretch {
  drive: DriveResult;
  before: TreeSample;
  /** When the load generator had its last answer. */
  atDriveEnd: TreeSample;
  after: TreeSample;
  settleSeconds: number;
  sinks: { events: number; alerts: number } | null;
}

/**
 * Sends notifications [from, from + count) and waits for the server to settle. With `exact`
 * false (an overload, where requests whose client gave up may still be stored), the bank's
 * deliveries are waited for until they stop coming rather than to a known count.
 */
export async function measureStretch(
  rc: Receiver,
  from: number,
  count: number,
  samples?: MemorySample[],
  exact = true,
): Promise<Stretch> {
  const { o, servers } = rc;
  const before = sampleServers(servers);
  const t0 = performance.now();
  const timer =
    samples && o.memorySampleMs
      ? setInterval(
          () =>
            samples.push({
              atSeconds: Math.round((performance.now() - t0) / 1000),
              rssBytes: sum(sampleServers(servers).rssBytes),
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
      timelineMs: o.client?.timelineMs,
    });
    const atDriveEnd = sampleServers(servers);
    expect(rc, from, r.outcomes);
    const settled = await settle(rc, exact);
    if (settled.sample.pids.join() !== before.pids.join())
      throw new Error(
        `${o.name}: server processes changed during the run (a worker died?); see ${servers[0]!.logFile}`,
      );
    return {
      drive: r,
      before,
      atDriveEnd,
      after: settled.sample,
      settleSeconds: settled.seconds,
      sinks: settled.sinks,
    };
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** Sums stretches of one receiver into its phase result. */
export function phaseResult(
  rc: Receiver,
  stretches: Stretch[],
  samples: MemorySample[],
): PhaseResult {
  const { o } = rc;
  const last = stretches[stretches.length - 1]!;
  const statuses: Record<string, number> = {};
  for (const st of stretches)
    for (const [k, v] of Object.entries(st.drive.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const accepted = statuses['200'] ?? 0;
  const cpu = sum(stretches.map((st) => st.after.cpuSeconds - st.before.cpuSeconds));
  const duration = sum(stretches.map((st) => st.drive.durationSeconds));
  const latencies = Float64Array.from(stretches.flatMap((st) => st.drive.latencies ?? []));
  const byStatus: Record<string, LatencySummary> = {};
  // Per-status percentiles of several stretches are only exact from one; merged ones are
  // reported for the single-stretch phases (overload, soak) that need them.
  if (stretches.length === 1) Object.assign(byStatus, last.drive.latencyByStatusMs);
  const service = o.receiver === 'service' ? (o.service ?? { risk: true, bank: false }) : null;
  const handshakes = sum(stretches.map((st) => st.drive.handshakes));
  return {
    receiver: o.receiver,
    service,
    client: o.client ?? {},
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
    errors: sum(stretches.map((st) => st.drive.errors + st.drive.refused)),
    timeouts: sum(stretches.map((st) => st.drive.timeouts)),
    firstError: stretches.find((st) => st.drive.firstError)?.drive.firstError ?? null,
    durationSeconds: round(duration, 3),
    throughputPerSecond: Math.round(accepted / duration),
    latencyMs: summarise(latencies),
    latencyByStatusMs: byStatus,
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
    sinks: last.sinks
      ? { ...last.sinks, expectedEvents: rc.expected.events, expectedAlerts: rc.expected.alerts }
      : null,
    handshakes:
      handshakes > 0
        ? { total: handshakes, resumed: sum(stretches.map((st) => st.drive.resumed)) }
        : null,
    rss: {
      afterStartBytes: sum(rc.afterStart.rssBytes),
      afterWarmupBytes: sum(rc.afterWarmup.rssBytes),
      endBytes: sum(last.after.rssBytes),
      peakBytes: Math.max(...samples.map((x) => x.rssBytes), sum(last.after.rssBytes)),
      byProcess: last.after.pids.map((pid, i) => ({
        pid,
        afterWarmupBytes: rc.afterWarmup.rssBytes[i] ?? 0,
        endBytes: last.after.rssBytes[i]!,
      })),
      samples,
    },
    ...(last.drive.timeline ? { timeline: last.drive.timeline } : {}),
    driverCpuSeconds: round(sum(stretches.map((st) => st.drive.driverCpuSeconds)), 2),
  };
}

/**
 * One measured phase: a fresh database, the receiver started as its own process tree(s), a
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
 * Waits until the servers' processes use under 5 % of a core over half a second and, in the
 * bank configuration, every delivery and alert called for has reached the receiver (`exact`)
 * or they have stopped coming (at most 120 s); returns the sample taken then.
 */
async function settle(
  rc: Receiver,
  exact = true,
): Promise<{
  sample: TreeSample;
  seconds: number;
  sinks: { events: number; alerts: number } | null;
}> {
  const bank = rc.o.service?.bank ? rc.o.fixtures.bank : undefined;
  const t0 = performance.now();
  let last = sampleServers(rc.servers);
  let lastCounts = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const now = sampleServers(rc.servers);
    // A profiled process is never quiet (the profiler samples): then only the deliveries count.
    const quiet = rc.o.cpuProfileDir !== undefined || now.cpuSeconds - last.cpuSeconds < 0.025;
    const sinks = bank
      ? ((await bank.receiver.counts())[rc.o.name] ?? { events: 0, alerts: 0 })
      : null;
    const counts = JSON.stringify(sinks);
    const delivered =
      sinks === null ||
      (exact
        ? sinks.events >= rc.expected.events && sinks.alerts >= rc.expected.alerts
        : counts === lastCounts);
    lastCounts = counts;
    const late = performance.now() - t0 > 120_000;
    if ((quiet && delivered) || late) {
      if (late) rc.o.log(`${rc.o.name}: not settled after 120 s (${counts})`);
      // The quiet half second itself is not the server's work: report the sample from before it.
      return {
        sample: quiet ? last : now,
        seconds: (performance.now() - t0) / 1000 - 0.5,
        sinks,
      };
    }
    last = now;
  }
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
