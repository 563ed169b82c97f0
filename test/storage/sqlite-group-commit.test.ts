import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { StorageError } from '../../src/errors.js';
import type { NotificationRecord } from '../../src/storage/notification-record.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { uuidV7 } from '../../src/util/uuid-v7.js';
import { acceptedRecord, testProtector } from '../support/records.js';

const dp = testProtector();
/** A stored-shape record (test/support/records.ts), now, with `over` applied. */
const record = (over: Partial<NotificationRecord> = {}): NotificationRecord =>
  acceptedRecord(dp, Date.now(), over);

// Writes issued in one event-loop turn share a transaction (group commit). These tests put a
// failing write in such a batch and check that it fails alone.
describe('SQLite group commit', () => {
  let dir: string;
  let store: SqliteStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ctp-group-commit-'));
    store = new SqliteStore(join(dir, 'ctp.sqlite'));
    await store.migrate();
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the other writes of a batch when one write fails inside SQLite', async () => {
    const first = record();
    await store.record(first);
    const batch = [record(), record({ id: first.id }), record()]; // the middle one breaks the primary key
    const settled = await Promise.allSettled(batch.map((r) => store.record(r)));
    assert.equal(settled[0]?.status, 'fulfilled');
    assert.equal(settled[2]?.status, 'fulfilled');
    assert.equal(settled[1]?.status, 'rejected');
    assert.ok((settled[1] as PromiseRejectedResult).reason instanceof StorageError);
    const ids = new Set((await store.list({ scope: ALL_ISSUERS, limit: 100 })).map((r) => r.id));
    assert.ok(ids.has(batch[0]!.id) && ids.has(batch[2]!.id), 'the good writes are committed');
    assert.equal(ids.size, 3);
  });

  it('commits the other writes of a batch when one write throws a StorageError of its own', async () => {
    const good = [record(), record()];
    const settled = await Promise.allSettled([
      store.record(good[0]!),
      store.updateQuarantined(record()), // not a quarantined row: refused inside the write
      store.record(good[1]!),
    ]);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.ok((settled[1] as PromiseRejectedResult).reason instanceof StorageError);
    const ids = new Set((await store.list({ scope: ALL_ISSUERS, limit: 100 })).map((r) => r.id));
    assert.ok(ids.has(good[0]!.id) && ids.has(good[1]!.id));
  });

  it('commits non-durable writes without fsync, and durable ones still with synchronous=FULL', async () => {
    const db = store.database;
    db.exec('CREATE TABLE IF NOT EXISTS derived (k TEXT PRIMARY KEY)');
    const [NORMAL, FULL] = [1, 2];
    // Only non-durable writes in the batch: NORMAL inside, committed (visible), back to FULL after.
    const inside: unknown[] = [];
    await store.write(
      () => {
        inside.push(db.pragma('synchronous', { simple: true }));
        return db.prepare('INSERT INTO derived (k) VALUES (?)').run('a');
      },
      { durable: false },
    );
    assert.deepEqual(inside, [NORMAL]);
    assert.equal(db.pragma('synchronous', { simple: true }), FULL);
    assert.ok(db.prepare('SELECT 1 FROM derived WHERE k = ?').get('a'));
    // Mixed batch: the notification is durable, so the whole batch commits with FULL.
    const rec = record();
    const seen: unknown[] = [];
    await Promise.all([
      store.write(
        () => {
          seen.push(db.pragma('synchronous', { simple: true }));
          return db.prepare('INSERT INTO derived (k) VALUES (?)').run('b');
        },
        { durable: false },
      ),
      store.record(rec),
    ]);
    assert.deepEqual(seen, [FULL]);
    assert.equal((await store.findByDedupKey(rec.dedupKey))?.id, rec.id);
  });

  it('reports inserted, then duplicate, for the same dedup key in one batch', async () => {
    const a = record();
    const [x, y] = await Promise.all([store.record(a), store.record({ ...a, id: uuidV7() })]);
    assert.equal(x.result, 'inserted');
    assert.equal(y.result, 'duplicate');
    assert.equal(y.id, a.id);
  });
});

// Another process holding SQLite's write lock (here: a second connection inside BEGIN IMMEDIATE)
// must not freeze this process's event loop while the group commit waits for the lock.
describe('SQLite group commit while another connection holds the write lock', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctp-group-commit-lock-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the event loop running, then commits once the lock is released', async () => {
    const path = join(dir, 'wait.sqlite');
    const a = new SqliteStore(path);
    await a.migrate();
    const b = new SqliteStore(path);
    try {
      b.database.exec('BEGIN IMMEDIATE');
      const events: string[] = [];
      const rec = record();
      const written = a.record(rec).then((o) => events.push(`committed:${o.result}`));
      // Timers fire while the write waits: the loop is not blocked inside SQLite.
      await new Promise((r) => setTimeout(r, 30));
      events.push('timer');
      b.database.exec('COMMIT');
      await written;
      assert.deepEqual(events, ['timer', 'committed:inserted']);
      assert.equal((await a.findByDedupKey(rec.dedupKey))?.id, rec.id);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails the batch with StorageError once busyTimeoutMs passes without the lock', async () => {
    const path = join(dir, 'timeout.sqlite');
    const a = new SqliteStore(path, { busyTimeoutMs: 100 });
    await a.migrate();
    const b = new SqliteStore(path);
    try {
      b.database.exec('BEGIN IMMEDIATE');
      const settled = await Promise.allSettled([a.record(record()), a.record(record())]);
      assert.deepEqual(
        settled.map((x) => x.status),
        ['rejected', 'rejected'],
      );
      assert.ok((settled[0] as PromiseRejectedResult).reason instanceof StorageError);
      b.database.exec('ROLLBACK');
      assert.equal(
        (await a.record(record())).result,
        'inserted',
        'the store works again once the lock is free',
      );
    } finally {
      await a.close();
      await b.close();
    }
  });
});
