import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { StorageError } from '../../src/errors.js';
import { buildEvent } from '../../src/events/ctp-event.js';
import type { NotificationStore } from '../../src/storage/notification-store.js';
import type { OutboxStore } from '../../src/storage/outbox-store.js';
import { LISTENER_NAME } from '../../src/storage/postgres/postgres-outbox-dialect.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { type Dialect, dialects, type TestDatabase } from '../support/databases.js';
import { acceptedRecord, quarantinedVersion, testProtector } from '../support/records.js';
import { waitFor } from '../support/wait-for.js';

const SINKS = ['fraud-ops', 'core'];

/** A store and its outbox on one database, with a clock the test moves. */
function open(
  dialect: Dialect['name'],
  url: string,
  clock: { t: number },
  sinks: readonly string[] = SINKS,
) {
  const now = () => clock.t;
  if (dialect === 'sqlite') {
    const store = new SqliteStore(url.slice('sqlite:'.length), { sinks, now });
    return {
      store: store as NotificationStore,
      outbox: store.openOutbox({ now }),
    };
  }
  const store = new PostgresStore({ url, poolSize: 4, statementTimeoutMs: 5000 }, { sinks, now });
  return {
    store: store as NotificationStore,
    outbox: store.openOutbox({ now }),
  };
}

for (const dialect of await dialects()) {
  describe(`outbox store on ${dialect.name}`, () => {
    const dp = testProtector();
    const clock = { t: Date.UTC(2026, 2, 1) };
    let db: TestDatabase;
    let store: NotificationStore;
    let outbox: OutboxStore;
    const claimAll = (sink: string, limit = 100, leaseMs = 60_000) =>
      outbox.claim({ sink, limit, leaseMs, workerId: 'test' });

    before(async () => {
      db = await dialect.create();
      ({ store, outbox } = open(dialect.name, db.url, clock));
      await store.migrate();
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    it('accepting a notification queues one delivery per sink; quarantine and Visa retries queue none', async () => {
      const rec = acceptedRecord(dp, clock.t);
      assert.equal((await store.record(rec)).result, 'inserted');
      const rows = await outbox.list({ scope: ALL_ISSUERS, notificationId: rec.id });
      assert.deepEqual(rows.map((r) => r.sink).sort(), ['core', 'fraud-ops']);
      for (const r of rows) {
        assert.equal(r.status, 'pending');
        assert.equal(r.origin, 'accepted');
        assert.equal(r.attempts, 0);
        assert.equal(r.nextAttemptAt, clock.t);
      }
      assert.equal((await store.record(rec)).result, 'duplicate');
      assert.equal((await outbox.list({ scope: ALL_ISSUERS, notificationId: rec.id })).length, 2);

      const q = quarantinedVersion(acceptedRecord(dp, clock.t));
      await store.record(q);
      assert.equal((await outbox.list({ scope: ALL_ISSUERS, notificationId: q.id })).length, 0);
      // Drain, so later tests start from an empty queue.
      for (const s of SINKS)
        for (const d of await claimAll(s)) await outbox.complete(d.id, d.leaseToken);
    });

    it('a quarantined notification promoted (Visa retry or reprocess) queues its deliveries then', async () => {
      const viaRetry = acceptedRecord(dp, clock.t);
      await store.record(quarantinedVersion(viaRetry));
      assert.equal((await store.record({ ...viaRetry, id: 'ignored-new-id' })).result, 'promoted');
      assert.equal(
        (await outbox.list({ scope: ALL_ISSUERS, notificationId: viaRetry.id })).length,
        2,
      );

      const viaReprocess = acceptedRecord(dp, clock.t);
      await store.record(quarantinedVersion(viaReprocess));
      assert.equal(
        (await store.updateQuarantined(quarantinedVersion(viaReprocess))).status,
        'quarantined',
      );
      assert.equal(
        (await outbox.list({ scope: ALL_ISSUERS, notificationId: viaReprocess.id })).length,
        0,
      );
      assert.equal((await store.updateQuarantined(viaReprocess)).result, 'promoted');
      assert.equal(
        (await outbox.list({ scope: ALL_ISSUERS, notificationId: viaReprocess.id })).length,
        2,
      );
      for (const s of SINKS)
        for (const d of await claimAll(s)) await outbox.complete(d.id, d.leaseToken);
    });

    it('claims lease each delivery to one claimant, count the attempt and carry what the event is built from', async () => {
      const recs = [];
      for (let i = 0; i < 30; i++) recs.push(acceptedRecord(dp, clock.t + i));
      await Promise.all(recs.map((r) => store.record(r)));
      const [a, b, c] = await Promise.all([
        claimAll('core', 12),
        claimAll('core', 12),
        claimAll('core', 12),
      ]);
      const ids = [...a!, ...b!, ...c!].map((d) => d.id);
      assert.equal(ids.length, 30);
      assert.equal(new Set(ids).size, 30, 'no delivery claimed twice');
      assert.deepEqual(await claimAll('core'), [], 'leased rows are not claimable');
      const first = a![0]!;
      assert.equal(first.attempt, 1);
      const rec = recs.find((r) => r.id === first.source.notificationId)!;
      const event = buildEvent(first.source, { includePan: true, dataProtector: dp });
      assert.equal(
        event.card?.pan,
        rec.pan,
        'the stored card number decrypts for an includePan sink',
      );
      assert.equal(event.enroller.firstName, rec.firstName);
      assert.equal(buildEvent(first.source, { includePan: false }).card?.pan, undefined);
      for (const d of [...a!, ...b!, ...c!])
        assert.equal(await outbox.complete(d.id, d.leaseToken), true);
      assert.equal(
        (await outbox.list({ scope: ALL_ISSUERS, sink: 'core', status: 'delivered', limit: 1000 }))
          .length >= 30,
        true,
      );
      // The other sink's queue is untouched by all this.
      assert.equal((await claimAll('fraud-ops')).length, 30);
    });

    it('an expired lease returns the delivery to the queue; the old holder can no longer record an outcome', async () => {
      await store.record(acceptedRecord(dp, clock.t));
      const [d] = await claimAll('core', 1, 5000);
      assert.ok(d);
      clock.t += 4999;
      assert.deepEqual(await claimAll('core'), []);
      clock.t += 1;
      const [again] = await claimAll('core');
      assert.equal(again?.id, d.id);
      assert.equal(again.attempt, 2);
      assert.equal(await outbox.complete(d.id, d.leaseToken), false, 'stale lease');
      assert.equal(
        await outbox.fail(d.id, d.leaseToken, {
          error: 'X',
          httpStatus: null,
          nextAttemptAt: clock.t,
          dead: false,
        }),
        false,
      );
      assert.equal(await outbox.complete(again.id, again.leaseToken), true);
    });

    it('a failure waits until its next attempt; the last one is dead; retry brings dead ones back', async () => {
      await store.record(acceptedRecord(dp, clock.t));
      const [d] = await claimAll('core');
      assert.ok(d);
      assert.equal(
        await outbox.fail(d.id, d.leaseToken, {
          error: 'HTTP_503',
          httpStatus: 503,
          nextAttemptAt: clock.t + 1000,
          dead: false,
        }),
        true,
      );
      const [failed] = await outbox.list({ scope: ALL_ISSUERS, status: 'failed', sink: 'core' });
      assert.equal(failed?.lastError, 'HTTP_503');
      assert.equal(failed?.lastStatus, 503);
      assert.deepEqual(await claimAll('core'), []);
      clock.t += 1000;
      const [d2] = await claimAll('core');
      assert.equal(d2?.id, d.id);
      await outbox.fail(d2!.id, d2!.leaseToken, {
        error: 'TIMEOUT',
        httpStatus: null,
        nextAttemptAt: clock.t,
        dead: true,
      });
      assert.deepEqual(await claimAll('core'), [], 'dead is not claimable');
      assert.equal(
        (await outbox.stats(ALL_ISSUERS)).find((s) => s.sink === 'core' && s.status === 'dead')
          ?.count,
        1,
      );

      assert.equal(await outbox.retry({ scope: ALL_ISSUERS, id: 'no-such-id' }), 0);
      assert.equal(await outbox.retry({ scope: ALL_ISSUERS, dead: true, sink: 'fraud-ops' }), 0);
      assert.equal(await outbox.retry({ scope: ALL_ISSUERS, dead: true }), 1);
      const [d3] = await claimAll('core');
      assert.equal(d3?.id, d.id);
      assert.equal(d3?.attempt, 1, 'a retried delivery has a fresh attempt budget');
      await outbox.complete(d3!.id, d3!.leaseToken);
      assert.equal(
        await outbox.retry({ scope: ALL_ISSUERS, id: d.id }),
        0,
        'a delivered delivery is not retried (replay is for that)',
      );
    });

    it('a disabled sink is not claimed until enabled; the others carry on', async () => {
      for (const d of await claimAll('fraud-ops')) await outbox.complete(d.id, d.leaseToken);
      await store.record(acceptedRecord(dp, clock.t));
      await outbox.disableSink('core', 'HTTP_410');
      assert.deepEqual(await claimAll('core'), []);
      assert.equal((await claimAll('fraud-ops')).length, 1);
      const states = await outbox.sinkStates();
      assert.equal(states.find((s) => s.name === 'core')?.disabledReason, 'HTTP_410');
      assert.equal(await outbox.enableSink('core'), true);
      assert.equal(await outbox.enableSink('core'), false, 'already enabled');
      const [d] = await claimAll('core');
      assert.ok(d);
      await outbox.complete(d.id, d.leaseToken);
    });

    it('replay queues every accepted notification since a time again, skipping ones already queued', async () => {
      clock.t += 60_000;
      const since = clock.t;
      const recs = [
        acceptedRecord(dp, clock.t),
        acceptedRecord(dp, clock.t + 1),
        acceptedRecord(dp, clock.t + 2),
      ];
      for (const r of recs) await store.record(r);
      await store.record(quarantinedVersion(acceptedRecord(dp, clock.t + 3)));
      // Two of the three are delivered to core; one is still queued.
      const claimed = await claimAll('core', 2);
      for (const d of claimed) await outbox.complete(d.id, d.leaseToken);
      assert.equal(await outbox.replay('core', since, ALL_ISSUERS), 2);
      const replays = (await outbox.list({ scope: ALL_ISSUERS, sink: 'core', limit: 100 })).filter(
        (d) => d.origin === 'replay',
      );
      assert.deepEqual(
        replays.map((d) => d.notificationId).sort(),
        claimed.map((d) => d.source.notificationId).sort(),
      );
      assert.equal(
        await outbox.replay('core', since, ALL_ISSUERS),
        0,
        'nothing twice while queued',
      );
      const again = await claimAll('core');
      assert.equal(again.length, 3);
      for (const d of again) await outbox.complete(d.id, d.leaseToken);
    });

    // SQLite has no cross-process signal (its watch is a no-op; the worker polls).
    if (dialect.name === 'postgres')
      it('watch: PostgreSQL wakes workers in other processes at commit, and re-listens after losing the connection', async () => {
        let woken = 0;
        const errors: unknown[] = [];
        const w = await outbox.watch(
          () => woken++,
          (e) => errors.push(e),
        );
        try {
          const initial = woken;
          await store.record(acceptedRecord(dp, clock.t));
          await waitFor('a wake-up after commit', () => woken > initial);
          const pg = (store as PostgresStore).pool;
          await pg.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
            [LISTENER_NAME],
          );
          await waitFor('the lost connection to be reported', () => errors.length > 0);
          await waitFor(
            'listening again',
            async () =>
              (
                await pg.query(
                  'SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
                  [LISTENER_NAME],
                )
              ).rowCount === 1,
          );
          const before = woken;
          await store.record(acceptedRecord(dp, clock.t));
          await waitFor('a wake-up on the new connection', () => woken > before);
        } finally {
          await w.close();
        }
        for (const s of SINKS)
          for (const d of await claimAll(s)) await outbox.complete(d.id, d.leaseToken);
      });

    it('the deliveries commit with the notification or not at all (no dual write)', async () => {
      const other = await dialect.create();
      const o = open(dialect.name, other.url, clock);
      try {
        await o.store.migrate();
        const ok = acceptedRecord(dp, clock.t);
        await o.store.record(ok);
        // Make the outbox write fail: the notification must not be stored without its deliveries.
        if (dialect.name === 'sqlite')
          (o.store as SqliteStore).database.exec('DROP TABLE deliveries');
        else await (o.store as PostgresStore).pool.query('DROP TABLE deliveries');
        const rec = acceptedRecord(dp, clock.t);
        await assert.rejects(o.store.record(rec), StorageError);
        const stored = await o.store.list({ scope: ALL_ISSUERS, limit: 10 });
        assert.deepEqual(
          stored.map((s) => s.id),
          [ok.id],
        );
      } finally {
        await o.store.close();
        await other.drop();
      }
    });

    it('outcomes are recorded in one batch, each only under its own lease', async () => {
      for (let i = 0; i < 4; i++) await store.record(acceptedRecord(dp, clock.t));
      const first = await claimAll('fraud-ops', 2, 5000);
      clock.t += 5000;
      // The first claim's leases have run out: its rows go to the second claimant.
      const second = await claimAll('fraud-ops', 4);
      assert.equal(second.length, 4);
      const stale = first[0]!;
      const [a, b, c, d] = second;
      const kept = await outbox.record([
        { id: stale.id, leaseToken: stale.leaseToken },
        { id: a!.id, leaseToken: a!.leaseToken },
        {
          id: b!.id,
          leaseToken: b!.leaseToken,
          failure: {
            error: 'HTTP_503',
            httpStatus: 503,
            nextAttemptAt: clock.t + 1000,
            dead: false,
          },
        },
        {
          id: c!.id,
          leaseToken: c!.leaseToken,
          failure: { error: 'HTTP_400', httpStatus: 400, nextAttemptAt: clock.t, dead: true },
        },
        { id: d!.id, leaseToken: 'someone-else' },
      ]);
      assert.deepEqual(kept, [false, true, true, true, false]);
      const byId = new Map(
        (await outbox.list({ scope: ALL_ISSUERS, sink: 'fraud-ops', limit: 100 })).map((r) => [
          r.id,
          r,
        ]),
      );
      const status = (id: string) => byId.get(id)?.status;
      // The stale holder's row is one of the second claim's: its outcome there decides.
      assert.equal(status(a!.id), 'delivered');
      assert.equal(status(b!.id), 'failed');
      assert.equal(byId.get(b!.id)?.lastError, 'HTTP_503');
      assert.equal(status(c!.id), 'dead');
      assert.equal(status(d!.id), 'pending', 'still leased by the second claimant');
      assert.deepEqual(await outbox.record([]), []);
    });

    it('messages given back are due again at once, their attempt not counted', async () => {
      await store.record(acceptedRecord(dp, clock.t));
      await store.record(acceptedRecord(dp, clock.t));
      const claimed = await claimAll('core', 2);
      assert.equal(claimed.length, 2);
      assert.equal(await outbox.release('someone-else', [claimed[0]!.id]), 0);
      assert.equal(
        await outbox.release(
          claimed[0]!.leaseToken,
          claimed.map((m) => m.id),
        ),
        2,
      );
      assert.equal(await outbox.complete(claimed[0]!.id, claimed[0]!.leaseToken), false);
      const again = await claimAll('core', 2);
      assert.deepEqual(again.map((m) => m.id).sort(), claimed.map((m) => m.id).sort());
      assert.deepEqual(
        again.map((m) => m.attempt),
        claimed.map((m) => m.attempt),
      );
      for (const m of again) assert.equal(await outbox.complete(m.id, m.leaseToken), true);
    });
  });
}
