import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NotificationRecord } from '../../src/storage/notification-record.js';
import type { NotificationStore } from '../../src/storage/notification-store.js';
import { openStore } from '../../src/storage/open-store.js';
import { uuidV7 } from '../../src/util/uuid-v7.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { acceptedRecord, quarantinedVersion, testProtector } from '../support/records.js';

const dp = testProtector();
const record = (over: Partial<NotificationRecord> = {}) =>
  acceptedRecord(dp, over.receivedAt ?? Date.now(), over);
const quarantined = (over: Partial<NotificationRecord> = {}) => quarantinedVersion(record(over));

for (const dialect of await dialects()) {
  describe(`NotificationStore on ${dialect.name}`, () => {
    let db: TestDatabase;
    let store: NotificationStore;

    before(async () => {
      db = await dialect.create();
      store = await openStoreFor(db.url);
      await store.migrate();
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    it('migrations are idempotent and safe to run concurrently', async () => {
      const others = await Promise.all([
        openStoreFor(db.url),
        openStoreFor(db.url),
        openStoreFor(db.url),
      ]);
      await Promise.all(others.map((s) => s.migrate()));
      await Promise.all(others.map((s) => s.close()));
      await store.migrate();
    });

    it('records, then deduplicates on the dedup key', async () => {
      const r = record();
      assert.deepEqual(await store.record(r), { id: r.id, status: 'accepted', result: 'inserted' });
      const again = await store.record({ ...r, id: uuidV7() });
      assert.deepEqual(again, { id: r.id, status: 'accepted', result: 'duplicate' });
      assert.deepEqual(await store.findByDedupKey(r.dedupKey), { id: r.id, status: 'accepted' });
      await store.countRetry(r.dedupKey);
      const [row] = (await store.list({ limit: 100 })).filter((x) => x.id === r.id);
      assert.equal(row?.visaAttempts, 3);
      assert.equal(row?.panLuhnValid, true);
      assert.equal(row?.firstName, r.firstName);
    });

    it('concurrent inserts of one dedup key store one row', async () => {
      const base = record();
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.record({ ...base, id: uuidV7() })),
      );
      assert.equal(results.filter((x) => x.result === 'inserted').length, 1);
      assert.equal(new Set(results.map((x) => x.id)).size, 1);
    });

    it('a quarantined row is promoted in place when the retry passes, never demoted', async () => {
      const q = quarantined();
      await store.record(q);
      const stillBad = await store.record({ ...q, id: uuidV7() });
      assert.equal(stillBad.status, 'quarantined');
      const retry = record({ dedupKey: q.dedupKey });
      const good = await store.record(retry);
      assert.deepEqual(good, { id: q.id, status: 'accepted', result: 'promoted' });
      const demote = await store.record({ ...q, id: uuidV7() });
      assert.equal(demote.status, 'accepted', 'an accepted row stays accepted');
      const [row] = (await store.list({ limit: 500 })).filter((x) => x.id === q.id);
      assert.equal(row?.reason, null);
      assert.equal(row?.firstName, retry.firstName);
    });

    it('lists newest first with keyset paging and a status filter, and pages the quarantine', async () => {
      const t0 = Date.now() + 10_000_000;
      const made: NotificationRecord[] = [];
      for (let i = 0; i < 5; i++)
        made.push(i % 2 ? quarantined({ receivedAt: t0 + i }) : record({ receivedAt: t0 + i }));
      for (const r of made) await store.record(r);
      const page1 = await store.list({ limit: 2 });
      assert.deepEqual(
        page1.map((r) => r.id),
        [made[4]!.id, made[3]!.id],
      );
      const page2 = await store.list({
        limit: 2,
        before: { receivedAt: page1[1]!.receivedAt, id: page1[1]!.id },
      });
      assert.deepEqual(
        page2.map((r) => r.id),
        [made[2]!.id, made[1]!.id],
      );
      const q = await store.list({ limit: 2, status: 'quarantined' });
      assert.deepEqual(
        q.map((r) => r.id),
        [made[3]!.id, made[1]!.id],
      );

      const all: Awaited<ReturnType<NotificationStore['listQuarantined']>> = [];
      let after = '';
      for (;;) {
        const batch = await store.listQuarantined(1, after);
        if (batch.length === 0) break;
        all.push(...batch);
        after = batch.at(-1)!.id;
      }
      assert.ok(all.some((x) => x.id === made[3]!.id));
      const sent = new Map(made.map((r) => [r.id, r.encryptedData]));
      assert.ok(all.filter((x) => sent.has(x.id)).every((x) => x.encryptedData === sent.get(x.id)));
    });

    it('updateQuarantined refuses rows that are not quarantined', async () => {
      const r = record();
      await store.record(r);
      await assert.rejects(store.updateQuarantined(r), { code: 'STORAGE_UNAVAILABLE' });
      const q = quarantined();
      await store.record(q);
      assert.equal(
        (await store.updateQuarantined(record({ id: q.id, dedupKey: q.dedupKey }))).result,
        'promoted',
      );
    });

    it('keeps binary ciphertexts byte for byte', async () => {
      const r = record();
      await store.record(r);
      const raw = await readCiphertext(store, r.id);
      assert.ok(raw.equals(r.panCiphertext!));
    });

    it('ping answers; after close, operations fail with STORAGE_UNAVAILABLE', async () => {
      const s = await openStoreFor(db.url);
      await s.ping();
      await s.close();
      await assert.rejects(s.ping(), { code: 'STORAGE_UNAVAILABLE' });
      await assert.rejects(s.record(record()), { code: 'STORAGE_UNAVAILABLE' });
    });
  });
}

async function openStoreFor(url: string): Promise<NotificationStore> {
  return openStore({ url, poolSize: 4, statementTimeoutMs: 5000 });
}

/** Reads a ciphertext column through the dialect's own handle. */
async function readCiphertext(store: NotificationStore, id: string): Promise<Buffer> {
  if (store.dialect === 'sqlite') {
    const { SqliteStore } = await import('../../src/storage/sqlite-store.js');
    const row = (store as InstanceType<typeof SqliteStore>).database
      .prepare('SELECT pan_ciphertext FROM notifications WHERE id = ?')
      .get(id) as { pan_ciphertext: Buffer };
    return row.pan_ciphertext;
  }
  const { PostgresStore } = await import('../../src/storage/postgres-store.js');
  const r = await (store as InstanceType<typeof PostgresStore>).pool.query<{
    pan_ciphertext: Buffer;
  }>('SELECT pan_ciphertext FROM notifications WHERE id = $1', [id]);
  return r.rows[0]!.pan_ciphertext;
}
