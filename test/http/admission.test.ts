import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Admission } from '../../src/http/admission.js';
import { serviceMetrics } from '../../src/metrics/service-metrics.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

// Admission control on the Visa route (src/http/admission.ts): past the in-flight limit or the
// wait deadline a request is answered 500 at once, with an empty body, before any RSA operation
// or write, and counted; Visa's retry is then accepted like any first delivery.

const admissionConfig = (admission: { maxInFlight?: number; maxWaitMs?: number }) => ({
  listen: { host: '127.0.0.1', port: 0, admission },
});

const shedCount = async (reason: string) =>
  (await serviceMetrics().shed.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

describe('admission control: the wait deadline', () => {
  let db: TestDatabase;
  let s: TestServer;
  before(async () => {
    db = await sqliteDialect.create();
    // A deadline of 0: every request has waited longer than that when its turn comes.
    s = await startTestServer(await testPki(), {
      storageUrl: db.url,
      extra: admissionConfig({ maxWaitMs: 0 }),
    });
  });
  after(async () => {
    await s.close();
    await db.drop();
  });

  it('answers 500 with an empty body, stores nothing and counts it as a deadline', async () => {
    const before = await shedCount('deadline');
    const body = { encryptedData: await s.encode(enrollmentPayload()) };
    const res = await s.post(body);
    assert.equal(res.status, 500);
    assert.equal(res.body, '');
    assert.deepEqual(await s.runtime.store.list({}), [], 'nothing stored');
    assert.equal(await shedCount('deadline'), before + 1);
    const line = s.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'visa request');
    assert.equal(line.outcome, 'shed');
    assert.equal(line.code, 'OVERLOADED');
    assert.equal(line.result, 'deadline');
  });

  it("Visa's retry of a refused notification is accepted by a process with room", async () => {
    const body = { encryptedData: await s.encode(enrollmentPayload()) };
    assert.equal((await s.post(body)).status, 500);
    const db2 = await sqliteDialect.create();
    const roomy = await startTestServer(await testPki(), { storageUrl: db2.url });
    try {
      assert.equal((await roomy.post(body)).status, 200);
      assert.equal((await roomy.runtime.store.list({})).length, 1);
    } finally {
      await roomy.close();
      await db2.drop();
    }
  });
});

describe('admission control: the in-flight limit', () => {
  let db: TestDatabase;
  let s: TestServer;
  before(async () => {
    db = await sqliteDialect.create();
    s = await startTestServer(await testPki(), {
      storageUrl: db.url,
      extra: admissionConfig({ maxInFlight: 1 }),
    });
  });
  after(async () => {
    await s.close();
    await db.drop();
  });

  it('with one request held in flight, the next is answered 500 at once; the held one is then stored', async () => {
    const before = await shedCount('in_flight');
    // Another connection holds SQLite's write lock: the first request waits in its commit.
    const blocker = new Database(db.url.slice('sqlite:'.length));
    blocker.prepare('BEGIN IMMEDIATE').run();
    let held: Promise<{ status: number }> | undefined;
    try {
      held = s.post({ encryptedData: await s.encode(enrollmentPayload()) });
      await eventually(
        async () =>
          (await serviceMetrics().inFlight.get()).values[0]?.value === 1 ? true : undefined,
        'the first request in flight',
      );
      const second = await s.post({ encryptedData: await s.encode(enrollmentPayload()) });
      assert.equal(second.status, 500);
      assert.equal(second.body, '');
      assert.equal(await shedCount('in_flight'), before + 1);
    } finally {
      blocker.prepare('ROLLBACK').run();
      blocker.close();
    }
    assert.equal((await held).status, 200, 'the held request completes once the lock is free');
    const stored = await s.runtime.store.list({});
    assert.equal(stored.length, 1, 'only the admitted request was stored');
    assert.equal((await serviceMetrics().inFlight.get()).values[0]?.value, 0);
  });
});

describe('admission control: a backlog it cannot clear in time', () => {
  // Holds the event loop as a request's RSA operations would.
  const busy = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  const turn = () => new Promise((r) => setImmediate(r));

  it('refuses a late arrival at once, before the requests ahead of it start', async () => {
    // A turn starts 4 requests of at least 3 ms each: behind 72, at least 18 turns of 12 ms.
    const admission = new Admission({ maxInFlight: 1000, maxWaitMs: 200 });
    const order: string[] = [];
    const ahead = Array.from({ length: 80 }, (_, i) =>
      admission.admit().then((shed) => {
        order.push(`ahead-${i}`);
        if (shed === undefined) {
          busy(3);
          admission.release();
        }
      }),
    );
    for (let i = 0; i < 100 && admission.turnMs === 0; i++) await turn();
    assert.ok(admission.turnMs > 0, 'a busy turn was measured');
    const late = admission.admit().then((shed) => {
      order.push(`late:${shed ?? 'started'}`);
      if (shed === undefined) admission.release();
    });
    await Promise.all([...ahead, late]);
    const refusedAt = order.indexOf('late:deadline');
    assert.ok(refusedAt >= 0, `the late arrival was refused: ${order.join(' ')}`);
    assert.ok(
      refusedAt < order.indexOf('ahead-79'),
      `it was refused before the last one ahead of it: ${order.join(' ')}`,
    );
    assert.equal(admission.inFlight, 0);
  });

  it('once the backlog is gone, starts what arrives, whatever the last busy spell taught it', async () => {
    const admission = new Admission({ maxInFlight: 1000, maxWaitMs: 50 });
    const spell = Array.from({ length: 12 }, () =>
      admission.admit().then((shed) => {
        if (shed === undefined) {
          busy(20);
          admission.release();
        }
      }),
    );
    await Promise.all(spell);
    assert.ok(admission.turnMs > 50, 'a busy turn took longer than the deadline');
    // Arriving together, 8 form a backlog of two turns, each far shorter than the last spell's.
    const burst = await Promise.all(
      Array.from({ length: 8 }, () =>
        admission.admit().then((shed) => {
          if (shed === undefined) admission.release();
          return shed ?? 'started';
        }),
      ),
    );
    assert.deepEqual(burst, Array(8).fill('started'));
    assert.equal(admission.inFlight, 0);
  });
});
