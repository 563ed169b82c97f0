import { createHash } from 'node:crypto';
import { openStore } from '../src/storage/open-store.js';
import type { PhaseBase } from './bench-max.js';
import {
  drive,
  type MemorySample,
  measureStretch,
  type PhaseResult,
  phaseResult,
  round,
  sampleServers,
  startReceiver,
} from './bench-phase.js';
import { BANK } from './bench-rows.js';
import type { LatencySummary } from './latency-stats.js';
import { type AnswerCounts, type DriveResult, OUTCOME } from './load-driver.js';
import { readNotificationLinesAt } from './notification-set.js';

/** The client's own deadline in the overload (Visa's is not published; it retries timeouts). */
export const OVERLOAD_CLIENT_TIMEOUT_MS = 2000;
/** "Back to normal": the probe's p99, per second, within this (or twice the quiet p99). */
const NORMAL_P99_MS = 50;
/** Keep-alive connections the overload's client holds. */
export const OVERLOAD_CONNECTIONS = 512;
/** The light stream before and after the overload that says what "normal" latency is. */
const PROBE_RATE = 20;
const PROBE_SECONDS = 10;

/**
 * How row 5's client connects: a pool of keep-alive connections; a new plain connection per
 * request; a new mutual-TLS connection per request with a full handshake, or resuming the
 * session of an earlier one (RSA-2048 server certificate, as row 3).
 */
export const OVERLOAD_CONNECTION_KINDS = [
  'keep-alive',
  'per-request',
  'mtls-full',
  'mtls-resumed',
] as const;
export type OverloadConnection = (typeof OVERLOAD_CONNECTION_KINDS)[number];

export interface OverloadResult {
  /** Times row 2's maximum. */
  factor: number;
  connection: OverloadConnection;
  offeredRatePerSecond: number;
  seconds: number;
  /** Row 2's maximum (200s per second, closed loop) that the factor and goodput refer to. */
  maxThroughputPerSecond: number;
  /** 200s per second of sending. */
  goodputPerSecond: number;
  goodputRatio: number;
  answers: AnswerCounts;
  /** Every answer, and the 200s and 500s apart; when the client saw each refusal. */
  latencyMs: {
    all: LatencySummary;
    ok: LatencySummary | null;
    shed: LatencySummary | null;
    refused: LatencySummary | null;
  };
  /**
   * Stored after the overload: accepted ones whose answer came, ones whose client gave up (timed
   * out), ones answered 500 and ones refused (both must be 0).
   */
  stored: { answered: number; clientGone: number; shedButStored: number; refusedButStored: number };
  /** The retries of everything not answered 200: all must be 200, and then each stored once. */
  retries: { sent: number; ok: number; storedAfter: number; distinct: number };
  /**
   * The load generator: its CPU, and requests it sent over 50 ms behind schedule. When more than
   * 1 % were, it could not keep the offered rate on this machine, and the targets that depend on
   * it are not judged.
   */
  client: { cpuSeconds: number; lateSends: number; keptRate: boolean };
  /** p99 of the probe before, and seconds after the load stopped until it was back to normal. */
  recovery: {
    normalP99Ms: number;
    /** A second of the probe is normal when its p99 is within this. */
    limitMs: number;
    backToNormalSeconds: number | null;
    buckets: (number | null)[];
  };
  /** Server CPU while sending, and after the last answer until quiet (deferred work). */
  cpu: {
    totalSeconds: number;
    byProcess: number[];
    afterLoadSeconds: number;
    perStoredMs: number;
  };
  rss: { afterWarmupBytes: number; peakBytes: number; endBytes: number; samples: MemorySample[] };
  phase: PhaseResult;
}

const dedupKey = (encryptedData: string) =>
  createHash('sha256').update(encryptedData).digest('base64url');

/**
 * Row 5 at one factor: row 2's configuration, plain HTTP, open loop at `factor` × its maximum for
 * `seconds`, a new connection per request and a 2 s client deadline (the load that collapsed the
 * service before admission control). A probe at 20/s before gives "normal"; the same probe right
 * after the load stops says how long recovery takes. Then everything not answered 200 is sent
 * again (Visa's retries) and the database is checked: every 200 stored, no 500 stored, in the
 * end every notification stored exactly once.
 */
export async function runOverload(
  base: PhaseBase,
  factor: number,
  maxThroughput: number,
  seconds: number,
  connection: OverloadConnection = 'keep-alive',
): Promise<OverloadResult> {
  const perRequest = connection !== 'keep-alive';
  const rate = Math.round(maxThroughput * factor);
  const count = rate * seconds;
  const probeCount = PROBE_RATE * PROBE_SECONDS;
  const rc = await startReceiver({
    ...base,
    name: `overload-${factor}x-${connection}`,
    receiver: 'service',
    service: connection.startsWith('mtls') ? { ...BANK, tls: 'rsa' } : BANK,
    client: {
      connection: perRequest ? 'per-request' : 'keep-alive',
      resume: connection === 'mtls-resumed',
      timeoutMs: OVERLOAD_CLIENT_TIMEOUT_MS,
      timelineMs: 1000,
    },
    rate,
    count,
    // Over keep-alive, a pool large enough that the client is not what limits the offered rate
    // while answers are quick (a request waiting for a free connection counts against its 2 s).
    concurrency: perRequest ? base.concurrency : OVERLOAD_CONNECTIONS,
    memorySampleMs: 1000,
  });
  try {
    const probe = (from: number, startDelayMs = 0): Promise<DriveResult> =>
      drive({
        ...rc.target,
        from,
        count: probeCount,
        mode: 'open',
        rate: PROBE_RATE,
        concurrency: 4,
        timelineMs: 1000,
        startDelayMs,
      });
    const before = await probe(base.warmup);
    const normalP99 = before.latencyMs.p99;
    const from = base.warmup + probeCount;
    const afterFrom = from + count;
    base.log(`overload ${factor}x: open loop at ${rate}/s for ${seconds} s (${connection})`);
    const samples: MemorySample[] = [];
    // The recovery probe starts when the overload stops sending.
    const [st, after] = await Promise.all([
      measureStretch(rc, from, count, samples, false),
      probe(afterFrom, seconds * 1000),
    ]);
    const r = st.drive;
    const outcomes = r.outcomes + after.outcomes;
    const indices = (want: (o: string) => boolean) =>
      [...outcomes].flatMap((o, i) => (want(o) ? [from + i] : []));
    // What the database holds now, before any retry.
    const store = await openStore({ url: rc.storageUrl, poolSize: 2, statementTimeoutMs: 5000 });
    let stored: OverloadResult['stored'];
    let retries: OverloadResult['retries'];
    try {
      const storedAt = async (list: number[]) => {
        let n = 0;
        for (const line of readNotificationLinesAt(base.file, list))
          if (
            (await store.findByDedupKey(dedupKey(line.toString('latin1'))))?.status === 'accepted'
          )
            n++;
        return n;
      };
      const ok = indices((o) => o === OUTCOME.ok);
      const shed = indices((o) => o === OUTCOME.shed);
      const gone = indices((o) => o === OUTCOME.timeout || o === OUTCOME.error);
      const refused = indices((o) => o === OUTCOME.refused);
      stored = {
        answered: await storedAt(ok),
        clientGone: await storedAt(gone),
        shedButStored: await storedAt(shed),
        refusedButStored: await storedAt(refused),
      };
      const again = indices((o) => o !== OUTCOME.ok);
      base.log(`overload ${factor}x: sending ${again.length} retries`);
      const re =
        again.length > 0
          ? await drive({
              ...rc.target,
              connection: 'keep-alive',
              from: 0,
              count: again.length,
              indices: again,
              mode: 'closed',
              concurrency: 8,
              timeoutMs: 30_000,
            })
          : undefined;
      retries = {
        sent: again.length,
        ok: re?.statuses['200'] ?? 0,
        storedAfter: await storedAt([...ok, ...again]),
        distinct: ok.length + again.length,
      };
    } finally {
      await store.close();
    }
    const phase = phaseResult(rc, [st], samples);
    const buckets = after.timeline?.map((b) => b.p99Ms) ?? [];
    // Normal: within the service's latency target at ordinary load (p99 <= 50 ms), or twice the
    // quiet p99 on a machine where even that is slower.
    const limit = Math.max(NORMAL_P99_MS, 2 * normalP99);
    let back: number | null = null;
    for (let i = buckets.length - 1; i >= 0; i--) {
      if (buckets[i] === null || buckets[i]! > limit) break;
      back = i;
    }
    const byStatus = r.latencyByStatusMs;
    const answered = (r.statuses['200'] ?? 0) + (r.statuses['500'] ?? 0);
    const cpuAfter = st.after.cpuSeconds - st.atDriveEnd.cpuSeconds;
    return {
      factor,
      connection,
      offeredRatePerSecond: rate,
      seconds,
      maxThroughputPerSecond: maxThroughput,
      goodputPerSecond: Math.round((r.statuses['200'] ?? 0) / seconds),
      goodputRatio: round((r.statuses['200'] ?? 0) / seconds / maxThroughput, 3),
      answers: {
        ok: r.statuses['200'] ?? 0,
        shed: r.statuses['500'] ?? 0,
        other: r.sent - answered - r.timeouts - r.refused - r.errors,
        timeouts: r.timeouts,
        refused: r.refused,
        errors: r.errors,
      },
      latencyMs: {
        all: r.latencyMs,
        ok: byStatus['200'] ?? null,
        shed: byStatus['500'] ?? null,
        refused: r.refusedLatencyMs,
      },
      stored,
      retries,
      client: {
        cpuSeconds: r.driverCpuSeconds,
        lateSends: r.lateSends,
        keptRate: r.lateSends <= 0.01 * r.sent,
      },
      recovery: {
        normalP99Ms: normalP99,
        limitMs: limit,
        backToNormalSeconds: back,
        buckets,
      },
      cpu: {
        totalSeconds: phase.serverCpuSeconds,
        byProcess: phase.serverCpuSecondsByProcess,
        afterLoadSeconds: round(Math.max(0, cpuAfter), 2),
        perStoredMs: round(
          (phase.serverCpuSeconds * 1000) / Math.max(1, stored.answered + stored.clientGone),
          3,
        ),
      },
      rss: {
        afterWarmupBytes: phase.rss.afterWarmupBytes,
        peakBytes: Math.max(phase.rss.peakBytes, ...samples.map((x) => x.rssBytes)),
        endBytes: sum(sampleServers(rc.servers).rssBytes),
        samples,
      },
      phase,
    };
  } finally {
    await rc.drop();
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
