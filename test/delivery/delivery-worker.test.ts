import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { CLAIM_AHEAD, DeliveryWorker } from '../../src/delivery/delivery-worker.js';
import type { Destination, SendResult } from '../../src/delivery/destination.js';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import type { NotificationStore } from '../../src/storage/notification-store.js';
import type { ClaimedDelivery, OutboxStore } from '../../src/storage/outbox-store.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { acceptedRecord, testProtector } from '../support/records.js';
import { waitFor } from '../support/wait-for.js';

const SINK = 'core';
const CONCURRENCY = 2;

/** A destination whose sends the test answers one by one. */
class HeldDestination implements Destination {
  readonly name = SINK;
  readonly waiting: { message: ClaimedDelivery; answer: (r: SendResult) => void }[] = [];
  readonly sent: string[] = [];
  send(message: ClaimedDelivery): Promise<SendResult> {
    this.sent.push(message.id);
    return new Promise((answer) => this.waiting.push({ message, answer }));
  }
  answerAll(r: SendResult): void {
    for (const w of this.waiting.splice(0)) w.answer(r);
  }
  async close(): Promise<void> {}
}

for (const dialect of await dialects()) {
  describe(`the outbox worker's claims on ${dialect.name}`, () => {
    const dp = testProtector();
    let db: TestDatabase;
    let store: NotificationStore;
    let outbox: OutboxStore;
    const logger = pino({ level: 'silent' });

    before(async () => {
      db = await dialect.create();
      store =
        dialect.name === 'sqlite'
          ? new SqliteStore(db.url.slice('sqlite:'.length), { sinks: [SINK] })
          : new PostgresStore(
              { url: db.url, poolSize: 4, statementTimeoutMs: 5000 },
              { sinks: [SINK] },
            );
      await store.migrate();
      outbox = store.openOutbox({});
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    const worker = (destination: Destination, lease = { leaseMs: 60_000, attemptMs: 0 }) =>
      new DeliveryWorker({
        outbox,
        lanes: [
          {
            destination,
            retry: { initialDelayMs: 1000, maxDelayMs: 1000, maxAttempts: 3 },
            concurrency: CONCURRENCY,
            attemptMs: lease.attemptMs,
          },
        ],
        delivery: { runInServe: true, pollIntervalMs: 50, leaseMs: lease.leaseMs },
        logger,
      });

    const open = async () =>
      (await outbox.list({ scope: ALL_ISSUERS, sink: SINK, limit: 500 })).filter(
        (r) => r.status === 'pending',
      );

    it('claims ahead of its slots, sends `concurrency` at once, and gives back what it holds when stopped', async () => {
      for (let i = 0; i < 20; i++) await store.record(acceptedRecord(dp, Date.now()));
      const to = new HeldDestination();
      const w = worker(to);
      await w.start();
      await waitFor('the first sends', () => to.waiting.length === CONCURRENCY);
      const leased = (await open()).filter((r) => r.attempts === 1);
      assert.equal(
        leased.length,
        CONCURRENCY * CLAIM_AHEAD,
        'one claim for several rounds of sends',
      );
      assert.equal(to.sent.length, CONCURRENCY, 'no more in flight than the lane sends at once');
      to.answerAll({ ok: true, httpStatus: 204 });
      await waitFor(
        'the second round',
        () => to.sent.length === 2 * CONCURRENCY && to.waiting.length === CONCURRENCY,
      );
      const stopped = w.stop();
      to.answerAll({ ok: true, httpStatus: 204 });
      await stopped;
      const rows = await outbox.list({ scope: ALL_ISSUERS, sink: SINK, limit: 500 });
      const delivered = rows.filter((r) => r.status === 'delivered');
      assert.deepEqual(delivered.map((r) => r.id).sort(), [...to.sent].sort());
      const pending = rows.filter((r) => r.status === 'pending');
      assert.equal(pending.length, 20 - to.sent.length);
      for (const r of pending)
        assert.equal(r.attempts, 0, 'a message given back has no attempt counted');
      // Due at once: the next worker takes them without waiting for a lease to end.
      const next = new HeldDestination();
      const w2 = worker(next);
      await w2.start();
      await waitFor('the rest delivered by the next worker', async () => {
        next.answerAll({ ok: true, httpStatus: 204 });
        return (await open()).length === 0;
      });
      await w2.stop();
      assert.equal(new Set([...to.sent, ...next.sent]).size, 20, 'each sent once');
    });

    it('a 410 gives back the messages the lane held for that endpoint', async () => {
      for (let i = 0; i < 10; i++) await store.record(acceptedRecord(dp, Date.now()));
      const to = new HeldDestination();
      const w = worker(to);
      await w.start();
      await waitFor('the first sends', () => to.waiting.length === CONCURRENCY);
      to.answerAll({ ok: false, error: 'HTTP_410', httpStatus: 410, disableSink: true });
      await waitFor('the sink disabled', async () =>
        (await outbox.sinkStates()).some((s) => s.name === SINK && s.disabledAt !== null),
      );
      await waitFor(
        'the held messages given back',
        async () => (await open()).filter((r) => r.attempts === 0).length === 10 - CONCURRENCY,
      );
      await w.stop();
      const rows = await open();
      assert.equal(rows.length, 10 - CONCURRENCY, 'the two sent wait as failed attempts');
      const unsent = rows.filter((r) => !to.sent.includes(r.id));
      assert.equal(unsent.length, 10 - CONCURRENCY);
      for (const r of unsent)
        assert.equal(r.attempts, 0, 'held for the endpoint that answered Gone, given back');
      assert.equal(to.sent.length, CONCURRENCY, 'nothing more sent to it');
      await outbox.enableSink(SINK);
    });

    it('a held message whose lease could end before its attempt is given back and claimed afresh', async () => {
      const mine = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const rec = acceptedRecord(dp, Date.now());
        mine.add(rec.id);
        await store.record(rec);
      }
      const to = new HeldDestination();
      const tokens = new Map<string, string>();
      const send = to.send.bind(to);
      to.send = (m) => {
        tokens.set(m.id, m.leaseToken);
        return send(m);
      };
      // Lease 3,000 ms, attempts up to 400 ms, 1,000 ms kept: a held message may start within
      // 1,600 ms of its claim (over half the lease, so the lane claims ahead).
      const w = worker(to, { leaseMs: 3000, attemptMs: 400 });
      await w.start();
      await waitFor('the first sends', () => to.waiting.length === CONCURRENCY);
      const first = new Set(to.sent);
      const firstToken = tokens.get(to.sent[0]!);
      await new Promise((r) => setTimeout(r, 1800));
      await waitFor('all six sent, each once', async () => {
        to.answerAll({ ok: true, httpStatus: 204 });
        return (await open()).length === 0 && to.waiting.length === 0;
      });
      await w.stop();
      assert.equal(new Set(to.sent).size, to.sent.length, 'each sent once');
      for (const id of to.sent)
        if (!first.has(id))
          assert.notEqual(
            tokens.get(id),
            firstToken,
            'sent under a fresh claim, not the stale one',
          );
      const rows = (await outbox.list({ scope: ALL_ISSUERS, sink: SINK, limit: 500 })).filter((r) =>
        mine.has(r.notificationId),
      );
      assert.equal(rows.length, 6);
      for (const r of rows) {
        assert.equal(r.status, 'delivered');
        assert.equal(r.attempts, 1, 'a message given back has no attempt counted');
      }
    });
  });
}
