import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StorageError } from '../src/errors.js';
import type { NotificationRecord } from '../src/storage/notification-store.js';
import { SqliteStore } from '../src/storage/sqlite-store.js';
import { uuidV7 } from '../src/util/uuid-v7.js';

let n = 0;
function record(overrides: Partial<NotificationRecord> = {}): NotificationRecord {
  n++;
  return {
    id: uuidV7(),
    dedupKey: `dedup-${n}-${Math.random()}`,
    receivedAt: Date.now(),
    tokenRequestorId: '40010030273',
    eventType: 'CTP_ENROLLMENT_ATTEMPT',
    status: 'accepted',
    reason: null,
    reasonFields: null,
    jwsKid: 'visa',
    jweKid: 'issuer',
    tsp: 'V',
    firstName: null,
    lastName: null,
    contactEmail: null,
    phoneNumber: null,
    panFingerprint: null,
    panBin: null,
    panLast4: null,
    panLuhnValid: null,
    dataKeyId: null,
    panCiphertext: null,
    payloadCiphertext: null,
    encryptedData: `a.b.${n}`,
    ...overrides,
  };
}

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
    const ids = new Set((await store.list({ limit: 100 })).map((r) => r.id));
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
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.ok((settled[1] as PromiseRejectedResult).reason instanceof StorageError);
    const ids = new Set((await store.list({ limit: 100 })).map((r) => r.id));
    assert.ok(ids.has(good[0]!.id) && ids.has(good[1]!.id));
  });

  it('reports inserted, then duplicate, for the same dedup key in one batch', async () => {
    const a = record();
    const [x, y] = await Promise.all([store.record(a), store.record({ ...a, id: uuidV7() })]);
    assert.equal(x.result, 'inserted');
    assert.equal(y.result, 'duplicate');
    assert.equal(y.id, a.id);
  });
});
