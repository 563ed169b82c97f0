import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { purgeExpired } from '../../src/retention/retention.js';
import type { NotificationStore } from '../../src/storage/notification-store.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import type { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { runCli, startServerProcess } from '../support/cli-process.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { writeServerConfig } from '../support/process-config.js';
import { secretEnv } from '../support/secret-env.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';
import { waitFor } from '../support/wait-for.js';

const DAY = 86_400_000;

/** The raw columns retention touches, by row id (through the store's own handle). */
async function rawRows(store: NotificationStore): Promise<Map<string, Record<string, unknown>>> {
  const sql =
    'SELECT id, first_name, last_name, contact_email, phone_number, pan_ciphertext, payload_ciphertext, encrypted_data, pan_fingerprint, pan_last4, purged_at FROM notifications';
  const rows =
    store.dialect === 'sqlite'
      ? ((store as SqliteStore).database.prepare(sql).all() as Record<string, unknown>[])
      : ((await (store as PostgresStore).pool.query(sql)).rows as Record<string, unknown>[]);
  return new Map(rows.map((r) => [String(r.id), r]));
}

/** Moves rows back in time, as if received `days` ago. */
async function backdate(store: NotificationStore, ids: string[], days: number): Promise<void> {
  for (const id of ids) {
    if (store.dialect === 'sqlite')
      (store as SqliteStore).database
        .prepare('UPDATE notifications SET received_at = received_at - ? WHERE id = ?')
        .run(days * DAY, id);
    else
      await (store as PostgresStore).pool.query(
        'UPDATE notifications SET received_at = received_at - $1 WHERE id = $2',
        [days * DAY, id],
      );
  }
}

const PERSONAL = [
  'first_name',
  'last_name',
  'contact_email',
  'phone_number',
  'pan_ciphertext',
  'payload_ciphertext',
];

for (const dialect of await dialects()) {
  describe(`retention on ${dialect.name}`, () => {
    let db: TestDatabase;
    let s: TestServer;
    const sent: { id: string; encryptedData: string }[] = [];
    let kidUnknown: { id: string; encryptedData: string };

    before(async () => {
      db = await dialect.create();
      s = await startTestServer(await testPki(), { storageUrl: db.url });
      for (let i = 0; i < 6; i++) {
        const encryptedData = await s.encode(enrollmentPayload());
        assert.equal((await s.post({ encryptedData })).status, 200);
        sent.push({
          id: (await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 }))[0]!.id,
          encryptedData,
        });
      }
      const encryptedData = await s.encode(enrollmentPayload(), { encryptTo: 'second' });
      assert.equal((await s.post({ encryptedData })).status, 500);
      kidUnknown = {
        id: (await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 }))[0]!.id,
        encryptedData,
      };
      await backdate(s.runtime.store, [...sent.slice(0, 4).map((r) => r.id), kidUnknown.id], 40); // Cardholder alerts (risk): one given up on (dead), one still to be sent, both old.
      const old = Date.now() - 40 * DAY;
      for (const [id, n, status] of [
        ['alert-dead', sent[1]!.id, 'dead'],
        ['alert-pending', sent[2]!.id, 'pending'],
      ] as const) {
        const values = [
          id,
          n,
          old,
          old,
          status,
          'high',
          'k1',
          Buffer.from('encrypted recipient'),
          old,
        ];
        const sql =
          'INSERT INTO risk_alerts (id, notification_id, created_at, received_at, status, level, data_key_id, recipient_ciphertext, next_attempt_at) VALUES ';
        if (s.runtime.store.dialect === 'sqlite')
          (s.runtime.store as SqliteStore).database
            .prepare(`${sql}(?, ?, ?, ?, ?, ?, ?, ?, ?)`)
            .run(...values);
        else
          await (s.runtime.store as PostgresStore).pool.query(
            `${sql}($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
            values,
          );
      }
    });
    after(async () => {
      await s?.close();
      await db?.drop();
    });

    it('purges contact details and ciphertexts of older rows, keeps fingerprints, BIN/last4 and counts', async () => {
      const beforePurge = await rawRows(s.runtime.store);
      const { purged } = await purgeExpired(s.runtime.store, { days: 30, intervalMinutes: 60 });
      assert.equal(purged, 5);
      const rows = await rawRows(s.runtime.store);
      for (const id of [...sent.slice(0, 4).map((r) => r.id), kidUnknown.id]) {
        const r = rows.get(id)!;
        for (const c of PERSONAL) assert.equal(r[c], null, `${c} purged`);
        assert.equal(
          r.encrypted_data,
          '',
          'the envelope as received is purged too (the issuer key decrypts it)',
        );
        assert.equal(r.pan_fingerprint, beforePurge.get(id)!.pan_fingerprint, 'fingerprint kept');
        assert.equal(r.pan_last4, beforePurge.get(id)!.pan_last4, 'last four kept');
        assert.ok(Number(r.purged_at) > 0);
      }
      for (const { id } of sent.slice(4)) {
        const r = rows.get(id)!;
        for (const c of PERSONAL) assert.notEqual(r[c], null, `recent row keeps ${c}`);
        assert.equal(r.purged_at, null);
      }
      const listed = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 100 });
      const old = listed.find((r) => r.id === sent[0]!.id)!;
      assert.equal(old.firstName, null);
      assert.equal(old.panBin?.length, 6);
      assert.equal(old.visaAttempts, 1);
      assert.ok(old.purgedAt !== null);
      assert.equal(
        (await purgeExpired(s.runtime.store, { days: 30, intervalMinutes: 60 })).purged,
        0,
        'idempotent',
      );
      assert.deepEqual(
        await s.runtime.store.listQuarantined(ALL_ISSUERS, 100),
        [],
        'nothing left to reprocess in a purged row',
      );
      const sql = 'SELECT id, recipient_ciphertext FROM risk_alerts ORDER BY id';
      const alerts = (
        s.runtime.store.dialect === 'sqlite'
          ? (s.runtime.store as SqliteStore).database.prepare(sql).all()
          : (await (s.runtime.store as PostgresStore).pool.query(sql)).rows
      ) as { id: string; recipient_ciphertext: unknown }[];
      assert.deepEqual(
        alerts.map((r) => [r.id, r.recipient_ciphertext === null]),
        [
          ['alert-dead', true],
          ['alert-pending', false],
        ],
        'a dead alert loses its recipient; a pending one keeps it',
      );
    });

    it('a Visa retry of a purged notification is still a duplicate (200), counted, and stays purged', async () => {
      assert.equal((await s.post({ encryptedData: sent[0]!.encryptedData })).status, 200);
      const row = (await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 100 })).find(
        (r) => r.id === sent[0]!.id,
      )!;
      assert.equal(row.visaAttempts, 2);
      assert.equal(row.firstName, null);
      assert.equal(
        (await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 100 })).length,
        7,
        'no new row',
      );
    });

    it('a purged quarantined notification retried once its key is installed is accepted and purgeable again', async () => {
      const rotated = await startTestServer(await testPki(), {
        storageUrl: db.url,
        decryptionKids: ['first', 'second'],
      });
      try {
        assert.equal((await rotated.post({ encryptedData: kidUnknown.encryptedData })).status, 200);
        const r = (await rawRows(rotated.runtime.store)).get(kidUnknown.id)!;
        assert.equal(r.purged_at, null);
        assert.equal(r.encrypted_data, kidUnknown.encryptedData, 'the retry restores the envelope');
        assert.notEqual(r.first_name, null);
        assert.equal(
          (await purgeExpired(rotated.runtime.store, { days: 30, intervalMinutes: 60 })).purged,
          1,
          'still old: purged again',
        );
      } finally {
        await rotated.close();
      }
    });

    it('a notification whose event is still owed to a sink keeps its data until delivered', async () => {
      const sink = {
        name: 'fraud-ops',
        type: 'webhook',
        url: 'http://127.0.0.1:9/unreachable',
        secrets: [secretEnv(`whsec_${randomBytes(32).toString('base64')}`)],
      };
      const withSink = await startTestServer(await testPki(), {
        storageUrl: db.url,
        extra: { sinks: [sink] },
      });
      try {
        assert.equal(
          (await withSink.post({ encryptedData: await withSink.encode(enrollmentPayload()) }))
            .status,
          200,
        );
        const id = (await withSink.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 }))[0]!.id;
        await backdate(withSink.runtime.store, [id], 40);
        assert.equal(
          (await purgeExpired(withSink.runtime.store, { days: 30, intervalMinutes: 60 })).purged,
          0,
          'pending delivery: kept',
        );
        // Due once the risk assessment has run (deliveries carry it).
        const [claimed] = await waitFor('the delivery to be due', async () => {
          const c = await withSink.runtime.outbox.claim({
            sink: 'fraud-ops',
            limit: 10,
            leaseMs: 60_000,
            workerId: 'test',
          });
          return c.length > 0 ? c : undefined;
        });
        assert.ok(claimed);
        assert.notEqual(claimed.source.firstName, null, 'the event is built from intact data');
        assert.ok(await withSink.runtime.outbox.complete(claimed.id, claimed.leaseToken));
        assert.equal(
          (await purgeExpired(withSink.runtime.store, { days: 30, intervalMinutes: 60 })).purged,
          1,
          'delivered: purged',
        );
      } finally {
        await withSink.close();
      }
    });

    it('`ctp-notify purge --config FILE` purges and reports; without retention.days it refuses', async () => {
      await backdate(s.runtime.store, [sent[4]!.id], 40);
      const { file } = writeServerConfig(
        await testPki(),
        { storageUrl: db.url },
        (c) => (c.retention = { days: 30, intervalMinutes: 60 }),
      );
      const r = runCli(['purge', '--config', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).purged, 1);
      const { file: none } = writeServerConfig(await testPki(), { storageUrl: db.url });
      const refused = runCli(['purge', '--config', none]);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /\/retention\/days/);
    });

    if (dialect.name === 'sqlite') {
      it('serve purges on its own schedule', async () => {
        await backdate(s.runtime.store, [sent[5]!.id], 40);
        const { file } = writeServerConfig(
          await testPki(),
          { storageUrl: db.url },
          (c) => (c.retention = { days: 30, intervalMinutes: 60 }),
        );
        const server = await startServerProcess(['--config', file, '--workers', '1']);
        try {
          const started = Date.now();
          while (!/"msg":"retention purge"/.test(server.output()) && Date.now() - started < 15_000)
            await sleep(100);
          const line = server
            .output()
            .split('\n')
            .find((l) => l.includes('"retention purge"'));
          assert.ok(line, 'serve ran a purge soon after start');
          assert.equal(JSON.parse(line).purged, 1);
        } finally {
          assert.equal(await server.stop(), 0);
        }
        assert.equal((await rawRows(s.runtime.store)).get(sent[5]!.id)!.first_name, null);
      });
    }
  });
}
