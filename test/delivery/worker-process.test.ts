import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import type { NotificationStore } from '../../src/storage/notification-store.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { encodeVisaMessage } from '../../src/visa/visa-encoder.js';
import {
  postgresAvailable,
  postgresDialect,
  sqliteDialect,
  type TestDatabase,
} from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { acceptedRecord, testProtector } from '../support/records.js';
import { secretEnv } from '../support/secret-env.js';
import { configFor, NOTIFICATION_PATH } from '../support/server-harness.js';
import { captureForSuiteScan } from '../support/suite-scan.js';
import { processTempDir } from '../support/temp-dir.js';
import { testPki } from '../support/test-pki.js';
import { waitFor } from '../support/wait-for.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const CLI = new URL('../../src/cli.js', import.meta.url).pathname;
const run = promisify(execFile);

/** A `ctp-notify worker` child process with its log lines. */
class WorkerProcess {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(configFile: string, args: string[] = ['worker']) {
    this.child = spawn(process.execPath, [CLI, ...args, '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      this.lines.push(...parts);
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    captureForSuiteScan('ctp-notify worker output', () => this.lines.join('\n'));
  }

  async started(): Promise<void> {
    await waitFor('the worker to start', () =>
      this.lines.some((l) => l.includes('delivery worker started')),
    );
  }

  delivered(): number {
    return this.lines.filter((l) => l.includes('"outcome":"delivered"')).length;
  }
}

async function writeConfig(
  storageUrl: string,
  receiverUrl: string,
  secret: string,
  extra: { concurrency: number; leaseMs: number },
): Promise<string> {
  const config = configFor(await testPki(), {
    storageUrl,
    extra: {
      listen: { host: '127.0.0.1', port: 0 },
      sinks: [
        {
          name: 'hook',
          type: 'webhook',
          url: `${receiverUrl}/hook`,
          secrets: [secretEnv(secret)],
          timeoutMs: 1000,
          concurrency: extra.concurrency,
          retry: { initialDelayMs: 50, maxDelayMs: 500, maxAttempts: 5 },
        },
      ],
      delivery: { pollIntervalMs: 50, leaseMs: extra.leaseMs },
      // Rows are written straight into the store and no `serve` assesses them: do not hold
      // deliveries back for a risk assessment (risk-delivery.test.ts covers that wait).
      risk: { deliveryWaitSeconds: 0 },
      log: { level: 'info' },
    },
  });
  const file = join(processTempDir('ctp-worker-'), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('a worker killed mid-delivery (kill -9, SQLite)', () => {
  const rx = new WebhookReceiver();
  const dp = testProtector();
  let db: TestDatabase;
  let store: SqliteStore;
  let configFile: string;
  let hang = true;
  const workers: WorkerProcess[] = [];

  before(async () => {
    await rx.start();
    rx.respond = () => (hang ? { status: 0, hang: true } : { status: 200 });
    db = await sqliteDialect.create();
    configFile = await writeConfig(db.url, rx.url, `whsec_${randomBytes(32).toString('base64')}`, {
      concurrency: 1,
      leaseMs: 1500,
    });
    store = new SqliteStore(db.url.slice('sqlite:'.length), { sinks: ['hook'] });
    await store.migrate();
  });
  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await store.close();
    await rx.close();
    await db.drop();
  });

  it('the event it was sending is delivered after a restart, and nothing is lost', async () => {
    const recs = [
      acceptedRecord(dp, Date.now()),
      acceptedRecord(dp, Date.now() + 1),
      acceptedRecord(dp, Date.now() + 2),
    ];
    for (const r of recs) await store.record(r);
    const first = new WorkerProcess(configFile);
    workers.push(first);
    await waitFor('the first attempt to reach the receiver', () => rx.requests.length === 1);
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    const inFlightId = String(rx.requests[0]!.headers['webhook-id']);
    const outbox = store.openOutbox();
    const [leased] = (await outbox.list({ scope: ALL_ISSUERS, sink: 'hook', limit: 10 })).filter(
      (d) => `evt_${d.notificationId}` === inFlightId,
    );
    assert.equal(leased?.status, 'pending', 'not marked delivered: the receiver never answered');
    assert.ok(leased?.leaseUntil, 'still leased to the dead worker');

    hang = false;
    const second = new WorkerProcess(configFile);
    workers.push(second);
    const ids = recs.map((r) => `evt_${r.id}`);
    await waitFor('all three events answered 200', () =>
      ids.every((id) => rx.answered('/hook').some((r) => r.headers['webhook-id'] === id)),
    );
    const rows = await waitFor('all three recorded as delivered', async () => {
      const r = await outbox.list({ scope: ALL_ISSUERS, sink: 'hook', limit: 10 });
      return r.every((d) => d.status === 'delivered') ? r : undefined;
    });
    assert.equal(
      rows.find((d) => `evt_${d.notificationId}` === inFlightId)?.attempts,
      2,
      'taken over after the lease ran out',
    );
    second.child.kill('SIGTERM');
    assert.deepEqual(
      await second.exited,
      { code: 0, signal: null },
      'SIGTERM stops the worker cleanly',
    );
  });

  it('operations commands: deliveries list|retry|replay, sinks list|disable|enable', async () => {
    const cli = async (...args: string[]) => {
      try {
        const r = await run(process.execPath, [CLI, ...args, '--config', configFile]);
        return { code: 0, out: r.stdout, err: r.stderr };
      } catch (e) {
        const x = e as { code: number; stdout: string; stderr: string };
        return { code: x.code, out: x.stdout, err: x.stderr };
      }
    };
    const listed = JSON.parse((await cli('deliveries', 'list', '--format', 'json')).out) as {
      status: string;
      eventId: string;
      notificationId: string;
    }[];
    assert.equal(listed.length, 3);
    assert.ok(
      listed.every((d) => d.status === 'delivered' && d.eventId === `evt_${d.notificationId}`),
    );

    // One delivery that gave up.
    const since = new Date().toISOString();
    await store.record(acceptedRecord(dp, Date.now() + 10));
    const outbox = store.openOutbox();
    const [d] = await outbox.claim({ sink: 'hook', limit: 1, leaseMs: 1000, workerId: 'test' });
    await outbox.fail(d!.id, d!.leaseToken, {
      error: 'HTTP_503',
      httpStatus: 503,
      nextAttemptAt: Date.now(),
      dead: true,
    });
    const dead = JSON.parse(
      (await cli('deliveries', 'list', '--status', 'dead', '--format', 'json')).out,
    ) as { id: string; lastError: string }[];
    assert.deepEqual(
      dead.map((x) => [x.id, x.lastError]),
      [[d!.id, 'HTTP_503']],
    );
    const [retried, noSuchId, badSink, badTime] = await Promise.all([
      cli('deliveries', 'retry', '--dead'),
      cli('deliveries', 'retry', '--id', 'no-such-delivery'),
      cli('deliveries', 'replay', '--sink', 'nope', '--since', since),
      cli('deliveries', 'replay', '--sink', 'hook', '--since', 'yesterday'),
    ]);
    assert.deepEqual(JSON.parse(retried.out), { retried: 1 });
    assert.equal((await outbox.list({ scope: ALL_ISSUERS, status: 'pending' })).length, 1);
    assert.deepEqual([noSuchId.code, badSink.code, badTime.code], [1, 2, 2]);

    // Kinds, as operators name them: events for the sinks, cardholders' alerts (none here).
    const [events, alerts, alertRetry, badKind, kindWithId] = await Promise.all([
      cli('deliveries', 'list', '--kind', 'event', '--format', 'json'),
      cli('deliveries', 'list', '--kind', 'alert', '--status', 'dead', '--format', 'json'),
      cli('deliveries', 'retry', '--kind', 'alert', '--dead'),
      cli('deliveries', 'list', '--kind', 'sms'),
      cli('deliveries', 'retry', '--id', d!.id, '--kind', 'alert'),
    ]);
    assert.deepEqual(
      (JSON.parse(events.out) as { kind: string }[]).map((x) => x.kind),
      ['event', 'event', 'event', 'event'],
    );
    assert.deepEqual(JSON.parse(alerts.out), []);
    assert.deepEqual(JSON.parse(alertRetry.out), { retried: 0 });
    assert.deepEqual([badKind.code, kindWithId.code], [2, 2]);
    assert.match(badKind.err, /--kind must be one of event, alert/);

    const [replayed] = await Promise.all([
      cli('deliveries', 'replay', '--sink', 'hook', '--since', '2000-01-01T00:00:00Z'),
      cli('sinks', 'disable', 'hook'),
    ]);
    assert.deepEqual(
      JSON.parse(replayed.out),
      { queued: 3 },
      'the 3 delivered; the queued one is not doubled',
    );
    const sinks = JSON.parse((await cli('sinks', 'list', '--format', 'json')).out) as {
      name: string;
      enabled: boolean;
      pending: number;
    }[];
    assert.deepEqual(
      sinks.map((x) => [x.name, x.enabled, x.pending]),
      [['hook', false, 4]],
    );
    assert.deepEqual(JSON.parse((await cli('sinks', 'enable', 'hook')).out), {
      sink: 'hook',
      enabled: true,
      wasDisabled: true,
    });
    assert.equal((await outbox.sinkStates())[0]?.disabledAt, null);
  });
});

describe('two workers on one PostgreSQL', { skip: !(await postgresAvailable()) }, () => {
  const rx = new WebhookReceiver();
  const dp = testProtector();
  let db: TestDatabase;
  let store: NotificationStore;
  const workers: WorkerProcess[] = [];

  before(async () => {
    await rx.start();
    rx.respond = () => ({ status: 200, delayMs: 3 });
    db = await postgresDialect.create();
    store = new PostgresStore(
      { url: db.url, poolSize: 4, statementTimeoutMs: 5000 },
      { sinks: ['hook'] },
    );
    await store.migrate();
  });
  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await store.close();
    await rx.close();
    await db.drop();
  });

  it('share the work and deliver no event twice while both are healthy', async () => {
    const configFile = await writeConfig(
      db.url,
      rx.url,
      `whsec_${randomBytes(32).toString('base64')}`,
      { concurrency: 4, leaseMs: 30_000 },
    );
    workers.push(new WorkerProcess(configFile), new WorkerProcess(configFile));
    await Promise.all(workers.map((w) => w.started()));
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const batch = Array.from({ length: 20 }, (_, j) =>
        acceptedRecord(dp, Date.now() + i * 20 + j),
      );
      await Promise.all(batch.map((r) => store.record(r)));
      ids.push(...batch.map((r) => `evt_${r.id}`));
    }
    await waitFor('200 events delivered', () => rx.answered('/hook').length >= 200, 20_000);
    const seen = rx.requests.map((r) => String(r.headers['webhook-id']));
    assert.equal(seen.length, 200, 'no event sent twice');
    assert.deepEqual(new Set(seen), new Set(ids));
    await waitFor(
      'both workers to log their deliveries',
      () => workers[0]!.delivered() + workers[1]!.delivered() === 200,
    );
    const rows = await (store as PostgresStore)
      .openOutbox()
      .list({ scope: ALL_ISSUERS, limit: 500 });
    assert.ok(rows.every((d) => d.status === 'delivered' && d.attempts === 1));
    assert.ok(
      workers[0]!.delivered() > 0 && workers[1]!.delivered() > 0,
      `both workers delivered (${workers[0]!.delivered()} + ${workers[1]!.delivered()})`,
    );
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) assert.equal((await w.exited).code, 0);
  });
});

describe('serve --workers 2 on SQLite', () => {
  const rx = new WebhookReceiver();
  let db: TestDatabase;
  let serve: WorkerProcess | undefined;

  before(async () => {
    await rx.start();
    db = await sqliteDialect.create();
  });
  after(async () => {
    serve?.child.kill('SIGKILL');
    await rx.close();
    await db.drop();
  });

  it('runs one delivery worker, in the primary, not one per process', async () => {
    const configFile = await writeConfig(
      db.url,
      rx.url,
      `whsec_${randomBytes(32).toString('base64')}`,
      { concurrency: 2, leaseMs: 30_000 },
    );
    const server = new WorkerProcess(configFile, ['serve', '--workers', '2']);
    serve = server;
    const listening = await waitFor(
      'serve to listen',
      () => server.lines.find((l) => l.includes('"msg":"listening"') && l.includes('"workers":2')),
      20_000,
    );
    const url = (JSON.parse(listening) as { url: string }).url;
    const pki = await testPki();
    const keys = {
      signingKey: pki.visaSigningKey,
      signingKid: pki.visaKid,
      encryptionKey: pki.issuerPublicKey,
      encryptionKid: pki.issuerKid,
    };
    for (let i = 0; i < 4; i++) {
      const body = JSON.stringify({
        encryptedData: await encodeVisaMessage(enrollmentPayload(), keys),
      });
      const res = await fetch(`${url}${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      assert.equal(res.status, 200);
    }
    await waitFor('4 deliveries', () => rx.answered('/hook').length === 4);
    assert.equal(
      server.lines.filter((l) => l.includes('delivery worker started')).length,
      1,
      'one worker, not one per process',
    );
    const primaryPid = (
      JSON.parse(server.lines.find((l) => l.includes('delivery worker started'))!) as {
        pid: number;
      }
    ).pid;
    assert.equal(primaryPid, server.child.pid, 'in the primary');
    assert.equal(new Set(rx.requests.map((r) => r.headers['webhook-id'])).size, 4);
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0);
  });
});
