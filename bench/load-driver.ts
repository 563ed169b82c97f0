/**
 * The load generator, run as its own process (forked with IPC by run-bench) so that its CPU is
 * not the server's. It sends each notification once, closed-loop at a fixed concurrency or
 * open-loop at a fixed offered rate, over keep-alive HTTP/1.1 connections or a new connection
 * per request, plain or mutual TLS (with or without session resumption). In the open loop each
 * latency runs from the request's scheduled time, so a stalled server cannot hide its queue (no
 * coordinated omission).
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { type LatencySummary, summarise } from './latency-stats.js';
import { readNotificationBytes, readNotificationLinesAt } from './notification-set.js';
import {
  ClientTimeout,
  type ClientTls,
  ConnectionRefused,
  postRequest,
  RawHttpConnection,
  SessionCache,
} from './raw-http-client.js';

export interface DriveRequest {
  /** Where to send; several (instances of one service) take requests in turn. */
  origins: string[];
  path: string;
  file: string;
  from: number;
  count: number;
  /** Send the lines at these indices instead of [from, from + count) (e.g. Visa's retries). */
  indices?: number[] | undefined;
  /** Wait this long before the clock starts (a stream that begins when another one ends). */
  startDelayMs?: number | undefined;
  mode: 'closed' | 'open';
  /**
   * Closed loop: requests in flight. Open loop over keep-alive: connections (requests beyond wait
   * for one). Open loop with a connection per request: unused (nothing bounds the offered load).
   */
  concurrency: number;
  /** Open loop: requests per second. */
  rate?: number | undefined;
  /** Default keep-alive. */
  connection?: 'keep-alive' | 'per-request';
  /** Mutual TLS: the client's certificate and the CA it trusts for the server. */
  tls?: { caFile: string; certFile: string; keyFile: string; resume: boolean } | undefined;
  /** Give up on a request after this long (counted as a timeout; its connection is closed). */
  timeoutMs?: number | undefined;
  /** Also return every latency (ms), for merging several runs' percentiles. */
  raw?: boolean;
  /** Count outcomes per this many ms of scheduled send time (the overload's timeline). */
  timelineMs?: number | undefined;
}

// The body the service expects: `{"encryptedData":"…"}` (base64url needs no JSON escaping).
const OPEN = Buffer.from('{"encryptedData":"');
const CLOSE = Buffer.from('"}');

/** A send this much behind its schedule counts as late (see `DriveResult.lateSends`). */
export const LATE_MS = 50;

/** One request's fate, one character each in `outcomes`. */
export const OUTCOME = {
  ok: 'A',
  shed: 'S',
  other: 'O',
  timeout: 'T',
  /** Reset or closed by the server before any answer (refused before any work). */
  refused: 'R',
  error: 'E',
} as const;

/** Answers of a run or of a part of it, by kind. */
export interface AnswerCounts {
  ok: number;
  shed: number;
  other: number;
  timeouts: number;
  /** Connections reset or closed by the server before any answer. */
  refused: number;
  errors: number;
}

export interface TimelineBucket extends AnswerCounts {
  atSeconds: number;
  sent: number;
  /** p99 of the answers (any status) of requests sent in this bucket, ms. */
  p99Ms: number | null;
}

export interface DriveResult {
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Requests whose connection the server reset or closed before any answer. */
  refused: number;
  /** How long after its scheduled time the client saw each refusal. */
  refusedLatencyMs: LatencySummary | null;
  /** The first transport error, if any (connection refused, reset, unexpected framing). */
  firstError?: string | undefined;
  sent: number;
  durationSeconds: number;
  /** Answered requests, any status. */
  latencyMs: LatencySummary;
  /** Per status (200, 500, ...). */
  latencyByStatusMs: Record<string, LatencySummary>;
  /** Every latency (ms) of an answered request, when asked for. */
  latencies?: number[];
  /** Per request, in order: see {@link OUTCOME}. */
  outcomes: string;
  timeline?: TimelineBucket[];
  /** TLS handshakes made, and how many of them resumed a session. */
  handshakes: number;
  resumed: number;
  /** CPU the load generator itself used while sending (it shares the machine with the server). */
  driverCpuSeconds: number;
  /**
   * Open loop: requests the load generator itself sent more than {@link LATE_MS} after their
   * scheduled time (it could not keep the offered rate; its figures then say little of the
   * server's).
   */
  lateSends: number;
}

async function drive(r: DriveRequest): Promise<DriveResult> {
  const urls = r.origins.map((o) => new URL(o));
  const perRequest = r.connection === 'per-request';
  // Request bytes are made when sent: a long overload run sends hundreds of thousands.
  const lines = r.indices
    ? readNotificationLinesAt(r.file, r.indices)
    : readNotificationBytes(r.file, r.from, r.count);
  if (r.indices) r.count = r.indices.length;
  const request = (i: number) =>
    postRequest(
      urls[i % urls.length]!.host,
      r.path,
      Buffer.concat([OPEN, lines[i]!, CLOSE]),
      perRequest,
    );
  const tls: ClientTls | undefined = r.tls && {
    ca: readFileSync(r.tls.caFile),
    cert: readFileSync(r.tls.certFile),
    key: readFileSync(r.tls.keyFile),
    ...(r.tls.resume ? { sessions: new SessionCache() } : {}),
  };
  const open = (i: number) =>
    new RawHttpConnection(
      urls[i % urls.length]!.hostname,
      Number(urls[i % urls.length]!.port),
      tls,
    );
  const connections = perRequest ? [] : Array.from({ length: r.concurrency }, (_, i) => open(i));
  const idle = [...connections];
  const waiting: (() => void)[] = [];
  const latency = new Float64Array(r.count).fill(Number.NaN);
  const status = new Int16Array(r.count);
  const outcomes = new Array<string>(r.count).fill(OUTCOME.error);
  const statuses: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  const refusedAfter: number[] = [];
  let handshakes = 0;
  let resumed = 0;
  let firstError: string | undefined;

  const finish = (i: number, startedAt: number, s: number | Error) => {
    if (typeof s === 'number') {
      statuses[s] = (statuses[s] ?? 0) + 1;
      status[i] = s;
      latency[i] = performance.now() - startedAt;
      outcomes[i] = s === 200 ? OUTCOME.ok : s === 500 ? OUTCOME.shed : OUTCOME.other;
    } else if (s instanceof ClientTimeout) {
      timeouts++;
      outcomes[i] = OUTCOME.timeout;
    } else if (s instanceof ConnectionRefused) {
      refusedAfter.push(performance.now() - startedAt);
      outcomes[i] = OUTCOME.refused;
    } else {
      errors++;
      firstError ??= s.message;
    }
  };

  // The client's deadline runs from the request's scheduled time, as a caller's would: time
  // spent waiting for a free connection counts against it.
  const left = (startedAt: number) =>
    r.timeoutMs === undefined ? undefined : r.timeoutMs - (performance.now() - startedAt);
  // A request waits for a free connection (open loop: its latency keeps running meanwhile).
  const overKeepAlive = async (i: number, startedAt: number): Promise<void> => {
    let c = idle.pop();
    while (c === undefined) {
      await new Promise<void>((resolve) => waiting.push(resolve));
      c = idle.pop();
    }
    const ms = left(startedAt);
    if (ms !== undefined && ms <= 0) finish(i, startedAt, new ClientTimeout());
    else
      try {
        finish(i, startedAt, await c.send(request(i), ms));
      } catch (e) {
        finish(i, startedAt, e instanceof Error ? e : new Error(String(e)));
      }
    idle.push(c);
    waiting.shift()?.();
  };
  // Connect, send, read the answer, close: what a client without keep-alive pays.
  const overNewConnection = async (i: number, startedAt: number): Promise<void> => {
    const c = open(i);
    try {
      finish(i, startedAt, await c.send(request(i), left(startedAt)));
    } catch (e) {
      finish(i, startedAt, e instanceof Error ? e : new Error(String(e)));
    }
    c.close();
    handshakes += c.handshakes;
    resumed += c.resumed;
  };
  const one = perRequest ? overNewConnection : overKeepAlive;

  // The open loop's clock starts with every connection open: what it measures is the server's
  // answer to a steady offered rate, not the load generator's start-up.
  if (r.mode === 'open') await openPool(connections);
  if (r.startDelayMs) await new Promise((resolve) => setTimeout(resolve, r.startDelayMs));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let lateSends = 0;
  if (r.mode === 'closed') {
    let next = 0;
    await Promise.all(
      Array.from({ length: r.concurrency }, async () => {
        for (let i = next++; i < r.count; i = next++) await one(i, performance.now());
      }),
    );
  } else {
    const interval = 1000 / (r.rate ?? 1);
    const inflight: Promise<void>[] = [];
    let sent = 0;
    await new Promise<void>((done) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.min(r.count, Math.floor((now - t0) / interval) + 1);
        for (; sent < due; sent++) {
          if (now - (t0 + sent * interval) > LATE_MS) lateSends++;
          inflight.push(one(sent, t0 + sent * interval));
        }
        if (sent < r.count) setTimeout(tick, 1);
        else done();
      };
      tick();
    });
    await Promise.all(inflight);
  }
  const durationSeconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  for (const conn of connections) {
    handshakes += conn.handshakes;
    resumed += conn.resumed;
    conn.close();
  }
  const answered = latency.filter((x) => !Number.isNaN(x));
  const byStatus: Record<string, LatencySummary> = {};
  for (const s of Object.keys(statuses))
    byStatus[s] = summarise(latency.filter((_, i) => status[i] === Number(s)));
  return {
    statuses,
    errors,
    timeouts,
    refused: refusedAfter.length,
    refusedLatencyMs: refusedAfter.length > 0 ? summarise(Float64Array.from(refusedAfter)) : null,
    firstError,
    sent: r.count,
    durationSeconds,
    latencyMs: summarise(answered),
    latencyByStatusMs: byStatus,
    ...(r.raw ? { latencies: Array.from(answered) } : {}),
    outcomes: outcomes.join(''),
    ...(r.timelineMs && r.rate
      ? { timeline: timeline(r.timelineMs, 1000 / r.rate, outcomes, latency) }
      : {}),
    handshakes,
    resumed,
    driverCpuSeconds: (c.user + c.system) / 1e6,
    lateSends,
  };
}

/**
 * Opens a keep-alive pool a few connections at a time, as a pool that grows with its load does.
 * The service counts a new connection as a request on its way for its first 100 ms
 * (src/http/connection-intake.ts) and resets those past its limits: a pool opened all at once
 * would be partly reset. A connection reset after its TCP handshake is opened again.
 */
async function openPool(pool: RawHttpConnection[]): Promise<void> {
  const BATCH = 16;
  for (let attempt = 0; attempt < 50; attempt++) {
    const closed = pool.filter((c) => !c.isOpen);
    if (closed.length === 0) return;
    for (let i = 0; i < closed.length; i += BATCH) {
      await Promise.all(closed.slice(i, i + BATCH).map((c) => c.connect().catch(() => {})));
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
  throw new Error('could not open the keep-alive pool');
}

/** Outcomes and answer p99 per bucket of scheduled send time. */
function timeline(
  bucketMs: number,
  intervalMs: number,
  outcomes: string[],
  latency: Float64Array,
): TimelineBucket[] {
  const out: TimelineBucket[] = [];
  const per = Math.max(1, Math.round(bucketMs / intervalMs));
  for (let from = 0; from < outcomes.length; from += per) {
    const to = Math.min(outcomes.length, from + per);
    const slice = outcomes.slice(from, to);
    const count = (o: string) => slice.filter((x) => x === o).length;
    const answered = latency.subarray(from, to).filter((x) => !Number.isNaN(x));
    out.push({
      atSeconds: Math.round((from * intervalMs) / 100) / 10,
      sent: to - from,
      ok: count(OUTCOME.ok),
      shed: count(OUTCOME.shed),
      other: count(OUTCOME.other),
      timeouts: count(OUTCOME.timeout),
      refused: count(OUTCOME.refused),
      errors: count(OUTCOME.error),
      p99Ms: answered.length > 0 ? summarise(answered).p99 : null,
    });
  }
  return out;
}

process.once('message', (m: DriveRequest) => {
  drive(m).then(
    (result) => process.send?.({ ok: true, result }, () => process.exit(0)),
    (e: unknown) =>
      process.send?.({ ok: false, error: e instanceof Error ? e.message : String(e) }, () =>
        process.exit(1),
      ),
  );
});
