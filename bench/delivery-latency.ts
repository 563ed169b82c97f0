/**
 * Delivery latency (accept → sink, p50/p99) and throughput, on SQLite and PostgreSQL.
 *
 *   npm run bench:delivery -- [--dialect sqlite|postgres|both] [--rate 50] [--seconds 10]
 * [--backlog 2000]
 *
 * Everything on 127.0.0.1, stops by itself. Per dialect:
 * 1. live: `ctp-notify serve --workers 1` (delivery worker inside) as a child process; Visa
 *    messages, encoded beforehand, POSTed open-loop at --rate per second for --seconds; a
 *    webhook receiver here timestamps each arrival. Latency = arrival − the moment the client
 *    had the 200 ("accepted"), and arrival − the notification's receivedAt (request start).
 * 2. drain: serve with `delivery.runInServe: false` accepts --backlog notifications, then
 *    `ctp-notify worker` is started alone; throughput = events / (last arrival − first arrival).
 * Results are printed and written to bench/results/delivery-latency-<dialect>.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { encodeVisaMessage } from '../src/visa/visa-encoder.js';
import {
  type Dialect,
  postgresAvailable,
  postgresDialect,
  sqliteDialect,
} from '../test/support/databases.js';
import { enrollmentPayload } from '../test/support/personal-data.js';
import { secretEnv } from '../test/support/secret-env.js';
import { configFor, NOTIFICATION_PATH } from '../test/support/server-harness.js';
import { testPki } from '../test/support/test-pki.js';
import { sampleTree } from './process-tree.js';
import { scriptArgs } from './script-args.js';

const USAGE = `usage: npm run bench:delivery -- [--dialect sqlite|postgres|both] [--rate 50] [--seconds 10] [--backlog 2000]`;

const CLI = new URL('../src/cli.js', import.meta.url).pathname;
const args = scriptArgs(USAGE, {
  dialect: { type: 'string', default: 'both' },
  rate: { type: 'string', default: '50' },
  seconds: { type: 'string', default: '10' },
  backlog: { type: 'string', default: '2000' },
});
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const backlog = Number(args.backlog);

/**
 * Arrival at the receiver per event id, with the event's receivedAt and enroller (unique per
 * message).
 */
const arrivals = new Map<string, { at: number; receivedAt: number; firstName: string }>();
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    const id = String(req.headers['webhook-id']);
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      receivedAt: string;
      enroller: { firstName: string };
    };
    if (!arrivals.has(id))
      arrivals.set(id, {
        at,
        receivedAt: Date.parse(event.receivedAt),
        firstName: event.enroller.firstName,
      });
    res.writeHead(204).end();
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function start(cmd: string[], configFile: string, ready: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
      CLI,
      ...cmd,
      '--config',
      configFile,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf = (buf + d.toString('utf8')).slice(-4096);
      if (buf.includes(ready)) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining the log
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cmd.join(' ')} exited with ${code}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: pct(s, 50),
    p90: pct(s, 90),
    p99: pct(s, 99),
    max: s[s.length - 1] ?? NaN,
  };
};

interface Message {
  body: string;
  firstName: string;
}

async function encodeMany(n: number): Promise<Message[]> {
  const pki = await testPki();
  const keys = {
    signingKey: pki.visaSigningKey,
    signingKid: pki.visaKid,
    encryptionKey: pki.issuerPublicKey,
    encryptionKid: pki.issuerKid,
  };
  const out: Message[] = [];
  for (let i = 0; i < n; i++) {
    const payload = enrollmentPayload();
    const firstName = (payload.clientInformation as { firstName: string }).firstName;
    out.push({
      body: JSON.stringify({ encryptedData: await encodeVisaMessage(payload, keys) }),
      firstName,
    });
  }
  return out;
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runDialect(
  dialect: Dialect,
  bodies: { live: Message[]; backlog: Message[] },
  receiverUrl: string,
) {
  const db = await dialect.create();
  const dir = mkdtempSync(join(tmpdir(), 'ctp-bench-'));
  try {
    const port = await freePort();
    const pki = await testPki();
    const base = (runInServe: boolean) =>
      configFor(pki, {
        storageUrl: db.url,
        extra: {
          listen: { host: '127.0.0.1', port },
          sinks: [
            {
              name: 'bench',
              type: 'webhook',
              url: `${receiverUrl}/hook`,
              secrets: [secretEnv(`whsec_${randomBytes(32).toString('base64')}`)],
            },
          ],
          delivery: { runInServe },
          log: { level: 'info' },
        },
      });
    const liveConfig = join(dir, 'live.json');
    const drainConfig = join(dir, 'drain.json');
    writeFileSync(liveConfig, JSON.stringify(base(true)));
    writeFileSync(drainConfig, JSON.stringify(base(false)));
    const url = `http://127.0.0.1:${port}`;
    const pool = new Pool(url, { connections: 16 });
    const post = async (body: string) => {
      const res = await pool.request({
        method: 'POST',
        path: `${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT`,
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      return Date.now();
    };

    // 1. live: open loop at `rate`, worker inside serve.
    arrivals.clear();
    let server = await start(['serve', '--workers', '1'], liveConfig, '"msg":"listening"');
    const acked = new Map<string, number>();
    const t0 = Date.now() + 100;
    await Promise.all(
      bodies.live.map(async (m, i) => {
        const wait = t0 + (i * 1000) / rate - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        acked.set(m.firstName, await post(m.body));
      }),
    );
    await waitUntil(() => arrivals.size === bodies.live.length, 60_000);
    const live = [...arrivals.values()];
    // Negative when the event reached the sink before the 200 reached the client: the worker
    // is woken at commit, in parallel with the response.
    const fromAck = live.map((a) => a.at - acked.get(a.firstName)!);
    const fromReceived = live.map((a) => a.at - a.receivedAt);
    await stop(server);

    // 2. drain: accept a backlog with no worker running, then start one worker alone.
    arrivals.clear();
    server = await start(['serve', '--workers', '1'], drainConfig, '"msg":"listening"');
    for (let i = 0; i < bodies.backlog.length; i += 16)
      await Promise.all(bodies.backlog.slice(i, i + 16).map((m) => post(m.body)));
    const worker = await start(['worker'], drainConfig, 'delivery worker started');
    // The worker's CPU from its first delivery to its last, per event: what the outbox engine
    // costs (claim, build, send, record), without start-up.
    await waitUntil(() => arrivals.size > 0, 60_000);
    const cpuAtFirst = sampleTree(worker.pid!).cpuSeconds;
    await waitUntil(() => arrivals.size === bodies.backlog.length, 300_000);
    const cpuAtLast = sampleTree(worker.pid!).cpuSeconds;
    const times = [...arrivals.values()].map((a) => a.at);
    // From the first arrival to the last: the worker's process start-up is not delivery.
    const first = Math.min(...times);
    const last = Math.max(...times);
    await stop(worker);
    await stop(server);
    await pool.close();
    return {
      dialect: dialect.name,
      live: {
        rate,
        events: bodies.live.length,
        acceptToSinkMs: stats(fromAck),
        requestToSinkMs: stats(fromReceived),
      },
      drain: {
        events: bodies.backlog.length,
        seconds: (last - first) / 1000,
        eventsPerSecond: Math.round((bodies.backlog.length - 1) / ((last - first) / 1000)),
        workerCpuMicrosPerEvent: Math.round(
          ((cpuAtLast - cpuAtFirst) * 1e6) / (bodies.backlog.length - 1),
        ),
      },
    };
  } finally {
    await db.drop();
  }
}

async function main(): Promise<void> {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  const wanted = args.dialect === 'both' ? ['sqlite', 'postgres'] : [args.dialect];
  const list: Dialect[] = [];
  if (wanted.includes('sqlite')) list.push(sqliteDialect);
  if (wanted.includes('postgres')) {
    if (await postgresAvailable()) list.push(postgresDialect);
    else console.log('# PostgreSQL not reachable: skipped');
  }
  process.stdout.write(`encoding ${rate * seconds + backlog} Visa messages per dialect…\n`);
  mkdirSync(join(process.cwd(), 'bench', 'results'), { recursive: true });
  for (const d of list) {
    const bodies = { live: await encodeMany(rate * seconds), backlog: await encodeMany(backlog) };
    const r = await runDialect(d, bodies, receiverUrl);
    const env = {
      cores: availableParallelism(),
      loadavg1: Number(loadavg()[0]!.toFixed(2)),
      node: process.version,
    };
    const out = { ...r, env, at: new Date().toISOString() };
    writeFileSync(
      join(process.cwd(), 'bench', 'results', `delivery-latency-${d.name}.json`),
      `${JSON.stringify(out, null, 2)}\n`,
    );
    const f = (s: { p50: number; p99: number; max: number }) =>
      `p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms`;
    console.log(
      `\n${d.name}: live ${rate}/s × ${seconds}s (${r.live.events} events, worker inside serve)`,
    );
    console.log(`  accept (200 at client) → sink: ${f(r.live.acceptToSinkMs)}`);
    console.log(`  request arrival → sink:       ${f(r.live.requestToSinkMs)}`);
    console.log(
      `${d.name}: drain of ${r.drain.events} queued events by one worker: ${r.drain.seconds.toFixed(2)} s, ${r.drain.eventsPerSecond} events/s, ${r.drain.workerCpuMicrosPerEvent} µs of the worker's CPU per event`,
    );
    console.log(`  (${env.cores} cores, load average ${env.loadavg1} at the end)`);
  }
  receiver.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
