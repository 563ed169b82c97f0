import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
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
    assert.deepEqual(await s.runtime.store.list({ scope: ALL_ISSUERS }), [], 'nothing stored');
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
      assert.equal((await roomy.runtime.store.list({ scope: ALL_ISSUERS })).length, 1);
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
    const stored = await s.runtime.store.list({ scope: ALL_ISSUERS });
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
  /** `count` requests arriving now; each started one holds the loop `holdMs`; outcomes in `order`. */
  const arrivals = (admission: Admission, order: string[], count: number, holdMs: number) =>
    Array.from({ length: count }, (_, i) =>
      admission.admit().then((shed) => {
        order.push(`${shed ?? 'started'}-${i}`);
        if (shed === undefined) {
          busy(holdMs);
          admission.release();
        }
      }),
    );

  it('refuses at once what arrives behind a backlog the busy spell will not clear in time', async () => {
    // A spell of turns of 4 starts of 1 ms each (4 ms a turn, longer on a busy machine). From
    // within one of its measured turns 200 more arrive: the last of them, behind 50 turns or
    // more (200 ms and more), cannot start within 100 ms, and are refused as they arrive,
    // before any of the 200 starts.
    const admission = new Admission({ maxInFlight: 1000, maxWaitMs: 100 });
    const order: string[] = [];
    let burst: Promise<void>[] = [];
    const spell = Array.from({ length: 40 }, () =>
      admission.admit().then((shed) => {
        if (shed !== undefined) return;
        busy(1);
        if (burst.length === 0 && admission.turnMs > 0) burst = arrivals(admission, order, 200, 1);
        admission.release();
      }),
    );
    await Promise.all(spell);
    assert.ok(burst.length > 0, 'the burst arrived within a measured busy turn');
    await Promise.all(burst);
    const firstStarted = order.findIndex((o) => o.startsWith('started'));
    const lastRefused = order.indexOf('deadline-199');
    assert.ok(lastRefused >= 0, `the last of the burst was refused: ${order.join(' ')}`);
    assert.ok(
      firstStarted < 0 || lastRefused < firstStarted,
      `refused as it arrived, before any of the burst started: ${order.join(' ')}`,
    );
    assert.equal(admission.inFlight, 0);
  });

  it('refuses a waiting request as soon as the pace says it will not start in time, not at its deadline', async () => {
    // 40 arrive together, before any busy turn was seen, so all wait. Each start holds the loop
    // 10 ms: turns of at least 40 ms, so from the second turn on, those behind the next four
    // cannot start within 100 ms. Waiting for the deadline, they were refused only after those
    // four had started.
    const admission = new Admission({ maxInFlight: 1000, maxWaitMs: 100 });
    const order: string[] = [];
    await Promise.all(arrivals(admission, order, 40, 10));
    const lastRefused = order.indexOf('deadline-39');
    assert.ok(lastRefused >= 0, `the last was refused: ${order.join(' ')}`);
    assert.ok(order.indexOf('started-4') >= 0, `the second turn started: ${order.join(' ')}`);
    assert.ok(
      lastRefused < order.indexOf('started-8') || order.indexOf('started-8') < 0,
      `refused before the third turn started: ${order.join(' ')}`,
    );
    assert.equal(admission.inFlight, 0);
  });

  it('once the backlog is gone, starts what arrives, whatever the last busy spell taught it', async () => {
    const admission = new Admission({ maxInFlight: 1000, maxWaitMs: 50 });
    const spell = await Promise.all(
      Array.from({ length: 12 }, () =>
        admission.admit().then((shed) => {
          if (shed === undefined) {
            busy(20);
            admission.release();
          }
          return shed ?? 'started';
        }),
      ),
    );
    assert.ok(spell.includes('deadline'), "the spell's turns took longer than the deadline");
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
