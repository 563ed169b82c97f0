/**
 * The load generator, run as its own process (forked with IPC by run-bench) so that its CPU is
 * not the server's. It sends each notification once, over keep-alive HTTP/1.1 connections, either
 * closed-loop at a fixed concurrency or open-loop at a fixed offered rate; in the open loop each
 * latency runs from the request's scheduled time, so a stalled server cannot hide its queue
 * (no coordinated omission).
 */
import { Buffer } from 'node:buffer';
import { type LatencySummary, summarise } from './latency-stats.js';
import { readNotifications } from './notification-set.js';
import { postRequest, RawHttpConnection } from './raw-http-client.js';

export interface DriveRequest {
  origin: string;
  path: string;
  file: string;
  from: number;
  count: number;
  mode: 'closed' | 'open';
  /** Closed loop: requests in flight. Open loop: connections (requests beyond wait for one). */
  concurrency: number;
  /** Open loop: requests per second. */
  rate?: number | undefined;
  /** Also return every latency (ms), for merging several runs' percentiles. */
  raw?: boolean;
}

export interface DriveResult {
  statuses: Record<string, number>;
  errors: number;
  /** The first transport error, if any (connection refused, reset, unexpected framing). */
  firstError?: string | undefined;
  sent: number;
  durationSeconds: number;
  latencyMs: LatencySummary;
  /** Every latency (ms), when asked for. */
  latencies?: number[];
  /** CPU the load generator itself used while sending (it shares the machine with the server). */
  driverCpuSeconds: number;
}

async function drive(r: DriveRequest): Promise<DriveResult> {
  const url = new URL(r.origin);
  const requests = readNotifications(r.file, r.from, r.count).map((d) =>
    postRequest(url.host, r.path, Buffer.from(JSON.stringify({ encryptedData: d }))),
  );
  const connections = Array.from(
    { length: r.concurrency },
    () => new RawHttpConnection(url.hostname, Number(url.port)),
  );
  const idle = [...connections];
  const waiting: (() => void)[] = [];
  const latency = new Float64Array(r.count);
  const statuses: Record<string, number> = {};
  let errors = 0;
  let firstError: string | undefined;

  // A request waits for a free connection (open loop: its latency keeps running meanwhile).
  const one = async (i: number, startedAt: number): Promise<void> => {
    let c = idle.pop();
    while (c === undefined) {
      await new Promise<void>((resolve) => waiting.push(resolve));
      c = idle.pop();
    }
    try {
      const status = await c.send(requests[i]!);
      statuses[status] = (statuses[status] ?? 0) + 1;
    } catch (e) {
      errors++;
      firstError ??= e instanceof Error ? e.message : String(e);
    }
    latency[i] = performance.now() - startedAt;
    idle.push(c);
    waiting.shift()?.();
  };

  // The open loop's clock starts with every connection open: what it measures is the server's
  // answer to a steady offered rate, not the load generator's start-up.
  if (r.mode === 'open') await Promise.all(connections.map((c) => c.connect()));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
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
        const due = Math.min(r.count, Math.floor((performance.now() - t0) / interval) + 1);
        for (; sent < due; sent++) inflight.push(one(sent, t0 + sent * interval));
        if (sent < r.count) setTimeout(tick, 1);
        else done();
      };
      tick();
    });
    await Promise.all(inflight);
  }
  const durationSeconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  for (const conn of connections) conn.close();
  return {
    statuses,
    errors,
    firstError,
    sent: r.count,
    durationSeconds,
    latencyMs: summarise(latency),
    ...(r.raw ? { latencies: Array.from(latency) } : {}),
    driverCpuSeconds: (c.user + c.system) / 1e6,
  };
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
