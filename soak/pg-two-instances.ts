import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { Agent } from 'undici';
import { loadSecrets, soleIssuerKeys } from '../src/keys/load-secrets.js';
import { importCardholders } from '../src/risk/directory/cardholder-import.js';
import { openStore } from '../src/storage/open-store.js';
import { encodeVisaMessage } from '../src/visa/visa-encoder.js';
import { PG_ADMIN_URL, postgresAnswers, postgresDialect } from '../test/support/databases.js';
import { enrollmentPayload } from '../test/support/personal-data.js';
import { writeServerConfig } from '../test/support/process-config.js';
import { secretEnv } from '../test/support/secret-env.js';
import { processTempDir } from '../test/support/temp-dir.js';
import type { TestPki } from '../test/support/test-pki.js';
import {
  ClientLedger,
  dedupKey,
  deliveryCounts,
  postOnce,
  type ServerChild,
  sleep,
  spawnServer,
  storedByDedupKey,
} from './soak-support.js';

const run = promisify(execFile);

export interface LoadFigures {
  /** Notifications sent (first attempts), and the rate they went out at. */
  notifications: number;
  /** Requests made, Visa's retries included. */
  requests: number;
  rateOffered: number;
  rateAchieved: number;
  accepted: number;
  answered500: number;
  connectionErrors: number;
  /** Client latency of first attempts answered 200, ms. */
  p50Ms: number;
  p99Ms: number;
  stored: number;
  eventsDelivered: number;
  alertsDelivered: number;
  duplicateEvents: number;
  duplicateAlerts: number;
  /** The last event's / alert's first arrival, seconds after the last 200 answer. */
  lastEventAfterLastAnswerS: number;
  lastAlertAfterLastAnswerS: number;
  dead: number;
}

export interface PgTwoInstancesFigures {
  seconds: number;
  rate: number;
  boundSeconds: number;
  steady: LoadFigures;
  restart:
    | (LoadFigures & {
        restartSeconds: number;
        /** The last event/alert's first arrival, seconds after the restart began. */
        drainedAfterRestartS: number;
      })
    | undefined;
}

/**
 * The webhook receiver of the bank's systems for this scenario: events on /events, cardholder
 * alerts on /alerts. At 400 deliveries a second it keeps only what is asked of it: per
 * webhook-id the first arrival and how many came (duplicates), and each alert's notification.
 */
class CountingReceiver {
  readonly events = new Map<string, { first: number; n: number }>();
  /** Keyed by the alert's notification id. */
  readonly alerts = new Map<string, { first: number; n: number; id: string }>();
  readonly alertIds = new Map<string, number>();
  other = 0;
  readonly #server: Server;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = Date.now();
        const id = String(req.headers['webhook-id'] ?? '');
        if (req.url === '/events') {
          const e = this.events.get(id);
          if (e) e.n++;
          else this.events.set(id, { first: at, n: 1 });
        } else if (req.url === '/alerts') {
          this.alertIds.set(id, (this.alertIds.get(id) ?? 0) + 1);
          const { notificationId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            notificationId: string;
          };
          const a = this.alerts.get(notificationId);
          if (a) a.n++;
          else this.alerts.set(notificationId, { first: at, n: 1, id });
        } else this.other++;
        res.writeHead(204).end();
      });
    });
    this.#server.keepAliveTimeout = 30_000;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

interface Message {
  encryptedData: string;
}

/**
 * Visa's side, made before the load starts (about 2.5 ms of CPU each, which at 200/s would take
 * half a core from the servers): genuine notifications from the Visa-side encoder, and for each
 * the cardholder's directory row (the enroller's own details, so each attempt assesses "low";
 * with `alert.minLevel: 'low'` and a new card each time, each attempt alerts).
 */
async function makeMessages(
  pki: TestPki,
  n: number,
): Promise<{ messages: Message[]; holders: string[] }> {
  const keys = {
    signingKey: pki.visaSigningKey,
    signingKid: pki.visaKid,
    encryptionKey: pki.issuerPublicKey,
    encryptionKid: pki.issuerKid,
  };
  const messages: Message[] = [];
  const holders: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = enrollmentPayload() as {
      clientInformation: {
        firstName: string;
        lastName: string;
        phoneNumber: string;
        contactEmail: string;
      };
      enrollment: { paymentInstrument: { accountNumber: string } };
    };
    const c = p.clientInformation;
    holders.push(
      JSON.stringify({
        accountNumber: p.enrollment.paymentInstrument.accountNumber,
        firstName: c.firstName,
        lastName: c.lastName,
        email: c.contactEmail,
        phone: c.phoneNumber,
        status: 'active',
        language: 'en',
      }),
    );
    messages.push({ encryptedData: await encodeVisaMessage(p, keys) });
  }
  return { messages, holders };
}

const percentile = (xs: number[], q: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const seconds = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Open loop: message i goes out at t0 + i/rate, to the instances in turn, whatever the answers
 * before it. A 500 or a broken connection is retried a second later on the other instance (Visa
 * retries; a load balancer spreads them), until a 200 or `retryUntil`.
 */
async function openLoop(
  urls: string[],
  messages: Message[],
  rate: number,
  ledger: ClientLedger,
  retryUntil: number,
  atHalfway?: () => void,
): Promise<{ lastAnswerAt: number; latencies: number[]; sendSeconds: number }> {
  const agent = new Agent({ connections: 128, headersTimeout: 15_000, bodyTimeout: 15_000 });
  let lastAnswerAt = 0;
  const latencies: number[] = [];
  const visa = async (i: number, m: Message) => {
    for (let k = i; ; k++) {
      const started = performance.now();
      const answer = await postOnce(urls[k % urls.length]!, m.encryptedData, ledger, agent);
      if (answer === 200) {
        lastAnswerAt = Math.max(lastAnswerAt, Date.now());
        if (k === i) latencies.push(performance.now() - started);
        return;
      }
      if (Date.now() > retryUntil) return;
      await sleep(1000);
    }
  };
  try {
    const t0 = performance.now();
    const inflight: Promise<void>[] = [];
    const half = Math.floor(messages.length / 2);
    for (let i = 0; i < messages.length; i++) {
      if (i === half) atHalfway?.();
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait >= 1) await sleep(wait);
      inflight.push(visa(i, messages[i]!));
    }
    const sendSeconds = (performance.now() - t0) / 1000 + 1 / rate;
    await Promise.all(inflight);
    return { lastAnswerAt, latencies, sendSeconds };
  } finally {
    await agent.destroy();
  }
}

/**
 * Waits until every stored notification of `messages` has its event and its alert at the
 * receiver (or `deadline`), then reads the figures.
 */
async function drain(
  dbUrl: string,
  messages: Message[],
  ledger: ClientLedger,
  receiver: CountingReceiver,
  deadline: number,
): Promise<{ ids: string[]; lastEventAt: number; lastAlertAt: number; missing: string[] }> {
  const stored = await storedByDedupKey(dbUrl);
  for (const e of ledger.acknowledged())
    assert.equal(stored.get(dedupKey(e))?.n, 1, 'a notification answered 200 is stored once');
  const ids: string[] = [];
  for (const m of messages) {
    const r = stored.get(dedupKey(m.encryptedData));
    if (r) {
      assert.equal(r.status, 'accepted');
      ids.push(r.id);
    }
  }
  const missingOf = () =>
    ids.flatMap((id) => [
      ...(receiver.events.has(`evt_${id}`) ? [] : [`event of ${id}`]),
      ...(receiver.alerts.has(id) ? [] : [`alert of ${id}`]),
    ]);
  while (missingOf().length > 0 && Date.now() < deadline) await sleep(50);
  let lastEventAt = 0;
  let lastAlertAt = 0;
  for (const id of ids) {
    lastEventAt = Math.max(lastEventAt, receiver.events.get(`evt_${id}`)?.first ?? 0);
    lastAlertAt = Math.max(lastAlertAt, receiver.alerts.get(id)?.first ?? 0);
  }
  return { ids, lastEventAt, lastAlertAt, missing: missingOf() };
}

async function alertStatuses(dbUrl: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM risk_alerts GROUP BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  } finally {
    await c.end();
  }
}

/**
 * How far the risk assessments of `ids` ran behind their acceptance (ms), and at what rate they
 * were made (both instances together): the events wait for them, the alerts come of them.
 */
async function assessmentLag(dbUrl: string, ids: string[]): Promise<string> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const { rows } = await c.query<{
      p50: string;
      p99: string;
      max: string;
      n: string;
      span: string;
    }>(
      `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY r.assessed_at - n.received_at) AS p50,
              percentile_disc(0.99) WITHIN GROUP (ORDER BY r.assessed_at - n.received_at) AS p99,
              max(r.assessed_at - n.received_at) AS max, count(*) AS n,
              max(r.assessed_at) - min(r.assessed_at) AS span
         FROM risk_assessments r JOIN notifications n ON n.id = r.notification_id
        WHERE n.id = ANY($1::text[])`,
      [ids],
    );
    const r = rows[0]!;
    const rate = Math.round((Number(r.n) * 1000) / Math.max(1, Number(r.span)));
    return `assessed ${r.n} at ${rate}/s, behind acceptance by p50 ${r.p50} / p99 ${r.p99} / max ${r.max} ms`;
  } finally {
    await c.end();
  }
}

/** Seconds of load before the planner statistics are gathered (see the warm-up below). */
const WARM_UP_SECONDS = 2;

async function analyze(dbUrl: string): Promise<void> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

/** `pg_ctlcluster` arguments for the machine's cluster, or undefined (not this machine's). */
function clusterArgs(action: 'restart' | 'start'): string[] | undefined {
  const host = new URL(PG_ADMIN_URL).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') return undefined;
  let versions: string[];
  try {
    versions = readdirSync('/etc/postgresql');
  } catch {
    return undefined;
  }
  if (versions.length === 0 || process.getuid?.() !== 0) return undefined;
  return ['--skip-systemctl-redirect', versions.sort().at(-1)!, 'main', action];
}

/** Whatever happened, PostgreSQL is answering again when this returns (or it throws). */
async function ensurePostgresUp(log: (s: string) => void): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (await postgresAnswers()) return;
    if (i === 5) {
      const args = clusterArgs('start');
      log('  PostgreSQL does not answer: starting it');
      if (args) await run('pg_ctlcluster', args).catch((e) => log(`  ${String(e)}`));
    }
    await sleep(1000);
  }
  throw new Error('PostgreSQL did not come back');
}

async function stop(server: ServerChild): Promise<number | null> {
  if (server.child.exitCode !== null || server.child.signalCode !== null)
    return (await server.exited).code;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 30_000);
  const exit = await server.exited;
  clearTimeout(timer);
  return exit.code;
}

/**
 * Two `ctp-notify serve` instances on one PostgreSQL database, the bank configuration (risk on
 * against an imported directory, a cardholder alert for every attempt to a webhook, one webhook
 * sink for every event), at `rate` notifications a second for `seconds`, spread over both.
 *
 * Steady: every alert and event reaches the receiver within `boundSeconds` of the last answer.
 * Restart: the same load, PostgreSQL restarted in the middle; Visa retries what was answered 500
 * or cut; afterwards every notification answered 200 is stored once, every stored one's event and
 * alert arrives (duplicates counted, allowed: at least once) within 120 s of the restart, and
 * nothing is dead-lettered.
 */
export async function pgTwoInstances(
  pki: TestPki,
  o: {
    seconds: number;
    rate: number;
    boundSeconds: number;
    restart: boolean;
    log: (s: string) => void;
  },
): Promise<PgTwoInstancesFigures> {
  const { log } = o;
  const perPhase = Math.round(o.seconds * o.rate);
  const warmUp = o.rate * WARM_UP_SECONDS;
  const phases = o.restart ? 2 : 1;
  let t = Date.now();
  const { messages, holders } = await makeMessages(pki, warmUp + perPhase * phases);
  log(`  encoded ${messages.length} notifications in ${seconds(Date.now() - t)} s`);

  const db = await postgresDialect.create();
  const receiver = await new CountingReceiver().start();
  const secret = secretEnv(`whsec_${randomBytes(32).toString('base64')}`);
  const retry = { initialDelayMs: 200, maxDelayMs: 2000 };
  const { file, config } = writeServerConfig(
    pki,
    // Sinks as the file gives them: the process settles them at start.
    {
      storageUrl: db.url,
      extra: {
        sinks: [
          {
            name: 'bank',
            type: 'webhook',
            url: `${receiver.url}/events`,
            secrets: [secret],
            includePan: false,
            concurrency: 8,
            timeoutMs: 2000,
            retry: { ...retry, maxAttempts: 1000 },
          },
        ],
      },
    },
    (c) => {
      c.log.level = 'info';
      // The shipped pool (10), not the test harness's 4: on PostgreSQL the risk assessments run
      // poolSize / 10 at a time, and the harness's pool leaves the Visa route waiting for one.
      c.storage.poolSize = 10;
      c.directory = { type: 'local' };
      c.risk.defaultCountry = 'GB';
      c.risk.alert = {
        minLevel: 'low',
        windowSeconds: 3600,
        bankName: 'Example Bank',
        helpContact: 'the number on the back of your card',
        timeZone: 'UTC',
        defaultLanguage: 'en',
        answerWindowHours: 168,
        sink: {
          type: 'webhook',
          url: `${receiver.url}/alerts`,
          secrets: [secret],
          timeoutMs: 2000,
        },
        retry: { ...retry, maxAttempts: 100 },
      };
      // The poll interval as shipped (500 ms): the LISTEN/NOTIFY wake-ups are what is measured.
      // The lease short enough that a delivery whose outcome the restart lost is sent again
      // within the drain bound (the default 60 s would only lengthen the wait).
      c.delivery = { runInServe: true, pollIntervalMs: 500, leaseMs: 5000 };
    },
  );

  // The directory, imported as `ctp-notify cardholders import` does (migrating first, so the two
  // instances start on a migrated schema).
  t = Date.now();
  const holdersFile = join(processTempDir('ctp-soak-holders-'), 'cardholders.jsonl');
  writeFileSync(holdersFile, holders.join('\n'));
  const store = await openStore({ ...config.storage, poolSize: 2 });
  try {
    await store.migrate();
    const report = await importCardholders(
      holdersFile,
      store.openRiskStores().cardholders,
      soleIssuerKeys(loadSecrets(config)).dataProtector,
      { defaultCountry: 'GB', batchSize: 2000 },
    );
    assert.equal(report.skipped, 0, `directory rows skipped: ${JSON.stringify(report.errors)}`);
  } finally {
    await store.close();
  }
  log(`  imported ${holders.length} cardholders in ${seconds(Date.now() - t)} s`);

  const servers = [spawnServer(file), spawnServer(file)];
  try {
    const urls: string[] = [];
    for (const s of servers) {
      const url = await s.listening;
      assert.ok(url, `server did not start:\n${s.output().slice(-3000)}`);
      urls.push(url);
    }
    log(`  two instances: ${urls.join(', ')}`);

    const phase = async (batch: Message[], restart: boolean, label: string) => {
      const ledger = new ClientLedger();
      const outputFrom = new Map(servers.map((s) => [s, s.output().length]));
      const started = Date.now();
      let restartStarted = 0;
      let restartDone: Promise<number> | undefined;
      const onHalfway = restart
        ? () => {
            restartStarted = Date.now();
            log(`  restarting PostgreSQL under load`);
            restartDone = run('pg_ctlcluster', clusterArgs('restart')!).then(
              () => Date.now() - restartStarted,
            );
          }
        : undefined;
      const load = await openLoop(urls, batch, o.rate, ledger, started + 180_000, onHalfway);
      const restartMs = restartDone ? await restartDone : 0;
      assert.equal(
        ledger.unacknowledged().length,
        0,
        "every notification is accepted once Visa's retries are in",
      );
      // Everything is waited for (up to 10 minutes), so that a late delivery is measured and
      // told apart from a lost one; the bounds are checked on the figures afterwards.
      const d = await drain(db.url, batch, ledger, receiver, load.lastAnswerAt + 600_000);
      // The outcome of the last delivery is recorded a moment after it arrived.
      for (let i = 0; i < 50; i++) {
        const c = await deliveryCounts(db.url);
        if ((c.byStatus.pending ?? 0) + (c.byStatus.failed ?? 0) === 0) break;
        await sleep(100);
      }
      const counts = await deliveryCounts(db.url);
      const attempts = [...ledger.answers.values()];
      const dup = (xs: Iterable<{ n: number }>) => {
        let n = 0;
        for (const x of xs) n += x.n - 1;
        return n;
      };
      const mine = new Set(d.ids);
      const figures: LoadFigures = {
        notifications: batch.length,
        requests: attempts.reduce((n, a) => n + a.length, 0),
        rateOffered: o.rate,
        rateAchieved: Math.round(batch.length / load.sendSeconds),
        accepted: ledger.acknowledged().length,
        answered500: ledger.count(500),
        connectionErrors: ledger.count('error'),
        p50Ms: Math.round(percentile(load.latencies, 0.5) * 10) / 10,
        p99Ms: Math.round(percentile(load.latencies, 0.99) * 10) / 10,
        stored: d.ids.length,
        eventsDelivered: d.ids.filter((id) => receiver.events.has(`evt_${id}`)).length,
        alertsDelivered: d.ids.filter((id) => receiver.alerts.has(id)).length,
        duplicateEvents: dup(d.ids.flatMap((id) => receiver.events.get(`evt_${id}`) ?? [])),
        duplicateAlerts: dup([...receiver.alerts].filter(([id]) => mine.has(id)).map(([, a]) => a)),
        lastEventAfterLastAnswerS: seconds(d.lastEventAt - load.lastAnswerAt),
        lastAlertAfterLastAnswerS: seconds(d.lastAlertAt - load.lastAnswerAt),
        dead: counts.byStatus.dead ?? 0,
      };
      // Where the time went, from the instances' own lines: a delivery's age when delivered
      // counts from its creation (an event's: the notification's acceptance; an alert's: its
      // assessment).
      const ages = { event: [] as number[], alert: [] as number[] };
      let swept = 0;
      for (const s of servers)
        for (const line of s.output().slice(outputFrom.get(s)).split('\n')) {
          // The sweep queues what is unassessed after its grace, the other instance's queue too.
          if (line.includes('"msg":"risk sweep queued unassessed notifications"'))
            swept += (JSON.parse(line) as { count: number }).count;
          if (!line.includes('"msg":"delivered"')) continue;
          const l = JSON.parse(line) as {
            kind: 'event' | 'alert';
            notificationId: string;
            ageMs: number;
          };
          if (mine.has(l.notificationId)) ages[l.kind]?.push(l.ageMs);
        }
      const spread = (xs: number[]) =>
        `p50 ${percentile(xs, 0.5)} / p99 ${percentile(xs, 0.99)} / max ${percentile(xs, 1)} ms`;
      log(`  ${await assessmentLag(db.url, d.ids)}`);
      log(
        `  delivered at an age of: events ${spread(ages.event)}; alerts (from their assessment) ${spread(ages.alert)}; ` +
          `${swept} found unassessed by the risk sweeps`,
      );
      log(
        `  ${label}: ${JSON.stringify(figures)} (` +
          `deliveries ${JSON.stringify(counts.byStatus)}, alerts ${JSON.stringify(await alertStatuses(db.url))})`,
      );
      if (restart)
        log(
          `  restart: ${seconds(restartMs)} s; the last event or alert ${seconds(Math.max(d.lastEventAt, d.lastAlertAt) - restartStarted)} s after it began`,
        );
      assert.deepEqual(d.missing.slice(0, 5), [], `${d.missing.length} never reached the receiver`);
      assert.equal(figures.dead, 0, 'nothing dead-lettered');
      assert.equal(receiver.other, 0, 'nothing posted elsewhere');
      return {
        figures,
        restartSeconds: seconds(restartMs),
        drainedAfterRestartS: seconds(Math.max(d.lastEventAt, d.lastAlertAt) - restartStarted),
      };
    };

    // A bank's database has its planner statistics; a fresh one has none until autovacuum's
    // ANALYZE, and this machine's CI configuration turns autovacuum off. Without them the
    // planner counts a card's attempts (the velocity rules) through notifications_status, a
    // scan of every notification (126 ms at 12,000 rows against 0.1 ms by notifications_pan):
    // the assessments fall behind (about 50/s) and everything after them waits. So: a warm-up,
    // then ANALYZE, as autovacuum would have done.
    log(`  warm-up: ${o.rate}/s for ${WARM_UP_SECONDS} s, then ANALYZE`);
    await phase(messages.slice(0, warmUp), false, 'warm-up');
    await analyze(db.url);
    log(`  steady: ${o.rate}/s for ${o.seconds} s`);
    const steady = (await phase(messages.slice(warmUp, warmUp + perPhase), false, 'steady'))
      .figures;
    // Checked after the restart phase, so that a miss still reports both phases' figures.
    const last = Math.max(steady.lastEventAfterLastAnswerS, steady.lastAlertAfterLastAnswerS);
    const steadyMiss =
      last <= o.boundSeconds
        ? undefined
        : `the last event/alert arrived ${last} s after the last answer (bound ${o.boundSeconds} s)`;

    let restart: PgTwoInstancesFigures['restart'];
    if (o.restart) {
      log(`  restart: ${o.rate}/s for ${o.seconds} s, PostgreSQL restarted halfway`);
      try {
        const r = await phase(messages.slice(warmUp + perPhase), true, 'restart');
        restart = {
          ...r.figures,
          restartSeconds: r.restartSeconds,
          drainedAfterRestartS: r.drainedAfterRestartS,
        };
      } finally {
        await ensurePostgresUp(log);
      }
    }

    assert.equal(steadyMiss, undefined, steadyMiss);
    if (restart)
      assert.ok(
        restart.drainedAfterRestartS <= 120,
        `drained ${restart.drainedAfterRestartS} s after the restart (bound 120 s)`,
      );
    const exits = await Promise.all(servers.map(stop));
    assert.deepEqual(exits, [0, 0], 'both instances exit cleanly on SIGTERM');
    return { seconds: o.seconds, rate: o.rate, boundSeconds: o.boundSeconds, steady, restart };
  } finally {
    await Promise.all(servers.map(stop));
    await ensurePostgresUp(log);
    await receiver.close();
    await db.drop();
  }
}

/** Whether the restart phase can run here: the machine's own cluster, and root to restart it. */
export function canRestartPostgres(): boolean {
  return clusterArgs('restart') !== undefined;
}
