import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import type { AlertChannel, OutgoingAlert } from '../../src/risk/alert/alert-channel.js';
import { alertDestination } from '../../src/risk/alert/alert-destination.js';
import type { NotificationStore } from '../../src/storage/notification-store.js';
import { openStore } from '../../src/storage/open-store.js';
import { ALERT_DESTINATION, type OutboxStore } from '../../src/storage/outbox-store.js';
import { postgresMigrations } from '../../src/storage/postgres/postgres-migrations.js';
import { postgresSqlDriver } from '../../src/storage/postgres/postgres-sql-driver.js';
import type { SqlDriver } from '../../src/storage/sql-driver.js';
import { sqliteMigrations } from '../../src/storage/sqlite/sqlite-migrations.js';
import { sqliteSqlDriver } from '../../src/storage/sqlite/sqlite-sql-driver.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { rawSql } from '../support/raw-sql.js';
import { testProtector } from '../support/records.js';

/** The schema of the release before the one outbox: migrations 1 to 6. */
const BEFORE = 6;
const T = Date.UTC(2026, 10, 1, 9);
const id = (n: number) => `0195a1b2-0000-7000-8000-${String(n).padStart(12, '0')}`;
const [N1, N2, N3] = [id(1), id(2), id(3)];
const [D_PENDING, D_DEAD] = [id(11), id(12)];
const [A_PENDING, A_DEAD, A_SENT] = [id(21), id(22), id(23)];

/**
 * A database made by the previous release (its migrations, its rows: events pending and dead,
 * alerts pending, dead and sent in their own outbox), upgraded in place: every row is kept, and
 * the alerts still to send are sent through the one outbox.
 */
for (const dialect of await dialects()) {
  describe(`upgrade to the one outbox on ${dialect.name}`, () => {
    const dp = testProtector();
    const recipient = { firstName: 'Zoë', lastName: null, emails: ['z@example.org'], phones: [] };
    let db: TestDatabase;
    let store: NotificationStore;
    let outbox: OutboxStore;
    let clock = T + 60_000;

    before(async () => {
      db = await dialect.create();
      const { sql, close } = rawDriver(dialect.name, db.url);
      await sql.run(
        'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
      );
      for (const m of (dialect.name === 'sqlite' ? sqliteMigrations : postgresMigrations).filter(
        (x) => x.version <= BEFORE,
      )) {
        await exec(dialect.name, db.url, m.sql);
        await sql.run('INSERT INTO schema_migrations VALUES (?, ?, ?)', [m.version, m.name, 0]);
      }
      for (const [n, i] of [
        [N1, 1],
        [N2, 2],
        [N3, 3],
      ] as const) {
        await sql.run(
          `INSERT INTO notifications (id, dedup_key, received_at, updated_at, token_requestor_id, event_type, status,
             pan_last4, encrypted_data) VALUES (?, ?, ?, ?, '40010030273', 'CTP_ENROLLMENT_ATTEMPT', 'accepted', '0002', 'x')`,
          [n, `dedup-${i}`, T + i, T + i],
        );
        await sql.run(
          `INSERT INTO risk_assessments (notification_id, received_at, assessed_at, score, level, reasons, shadow, directory)
             VALUES (?, ?, ?, 90, 'high', '[]', '[]', 'local')`,
          [n, T + i, T + i],
        );
      }
      const delivery = `INSERT INTO deliveries (id, notification_id, sink, origin, status, attempts, next_attempt_at,
          created_at, updated_at, last_error) VALUES (?, ?, 'core', 'accepted', ?, ?, ?, ?, ?, ?)`;
      await sql.run(delivery, [D_PENDING, N1, 'pending', 0, T, T, T, null]);
      await sql.run(delivery, [D_DEAD, N2, 'dead', 5, T, T, T, 'HTTP_503']);
      const alert = `INSERT INTO risk_alerts (id, notification_id, card_fingerprint, created_at, received_at, status,
          level, language, pan_last4, data_key_id, recipient_ciphertext, attempts, next_attempt_at, last_error, sent_at)
          VALUES (?, ?, 'fp', ?, ?, ?, 'high', 'fr', '0002', ?, ?, ?, ?, ?, ?)`;
      const sealed = (alertId: string) =>
        dp.encrypt(Buffer.from(JSON.stringify(recipient)), alertId);
      await sql.run(alert, [
        A_PENDING,
        N1,
        T,
        T,
        'pending',
        'k1',
        sealed(A_PENDING),
        1,
        T,
        'SMTP_421',
        null,
      ]);
      await sql.run(alert, [
        A_DEAD,
        N2,
        T,
        T,
        'dead',
        'k1',
        sealed(A_DEAD),
        3,
        T,
        'SMTP_550',
        null,
      ]);
      await sql.run(alert, [A_SENT, N3, T, T, 'sent', null, null, 1, T, null, T + 5]);
      await close();

      store = await openStore({ url: db.url, poolSize: 2, statementTimeoutMs: 5000 });
      await store.migrate();
      outbox = store.openOutbox({ now: () => clock });
    });
    after(async () => {
      await store?.close();
      await db?.drop();
    });

    it('keeps every row, and moves each alert into the outbox with its attempts and status', async () => {
      const sql = rawSql(store);
      const count = async (table: string) =>
        Number((await sql.all<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
      assert.deepEqual(
        [await count('notifications'), await count('risk_assessments'), await count('risk_alerts')],
        [3, 3, 3],
      );
      const rows = await outbox.list({ scope: ALL_ISSUERS, limit: 10 });
      const byId = new Map(rows.map((d) => [d.id, d]));
      assert.equal(rows.length, 5);
      assert.deepEqual(
        [D_PENDING, D_DEAD].map((x) => [byId.get(x)?.kind, byId.get(x)?.status]),
        [
          ['event', 'pending'],
          ['event', 'dead'],
        ],
      );
      const alerts = (await outbox.list({ scope: ALL_ISSUERS, kind: 'alert', limit: 10 })).sort(
        (a, b) => a.id.localeCompare(b.id),
      );
      assert.deepEqual(
        alerts.map((d) => [d.id, d.sink, d.status, d.attempts, d.lastError, d.alertId]),
        [
          [A_PENDING, ALERT_DESTINATION, 'failed', 1, 'SMTP_421', A_PENDING],
          [A_DEAD, ALERT_DESTINATION, 'dead', 3, 'SMTP_550', A_DEAD],
          [A_SENT, ALERT_DESTINATION, 'delivered', 1, null, A_SENT],
        ],
      );
    });

    it("the previous release's alert sender claims none of the alerts the outbox sends", async () => {
      // That release's claim, as it shipped: pending alerts whose lease ran out.
      const claimed = await rawSql(store).all(
        `SELECT id FROM risk_alerts WHERE status = 'pending' AND next_attempt_at <= ?
           AND (lease_until IS NULL OR lease_until <= ?)`,
        [Date.now() + 365 * 86_400_000, Date.now() + 365 * 86_400_000],
      );
      assert.deepEqual(claimed, []);
    });

    it('the pending alert is sent from the outbox, and its alert marked sent', async () => {
      const sent: OutgoingAlert[] = [];
      const sink: AlertChannel = {
        type: 'webhook',
        concurrency: 1,
        send: async (a) => void sent.push(a),
        close: async () => {},
      };
      const config = {
        minLevel: 'high',
        defaultLanguage: 'en',
        bankName: 'Example Bank',
        helpContact: '+44 20 7946 0000',
        timeZone: 'Europe/Paris',
      } as unknown as Parameters<typeof alertDestination>[2];
      const destination = alertDestination(ALERT_DESTINATION, sink, config, dp);
      const [claimed, ...more] = await outbox.claim({
        sink: ALERT_DESTINATION,
        limit: 10,
        leaseMs: 60_000,
        workerId: 'upgrade-test',
      });
      assert.deepEqual(more, []);
      assert.deepEqual([claimed?.id, claimed?.kind, claimed?.attempt], [A_PENDING, 'alert', 2]);
      const result = await destination.send(claimed!);
      assert.deepEqual(result, { ok: true, messageId: A_PENDING });
      assert.deepEqual(
        sent.map((a) => [a.id, a.notificationId, a.last4, a.recipient.emails[0]]),
        [[A_PENDING, N1, '0002', 'z@example.org']],
      );
      assert.match(sent[0]!.message.subject, /était-ce vous/i);
      assert.ok(await outbox.complete(claimed!.id, claimed!.leaseToken, A_PENDING));
      const [row] = (await store.openRiskStores().alerts.list(10)).filter(
        (a) => a.id === A_PENDING,
      );
      assert.equal(row?.status, 'sent');
      // Sent: the contacts are no longer kept.
      const [kept] = await rawSql(store).all<{ c: unknown }>(
        'SELECT recipient_ciphertext AS c FROM risk_alerts WHERE id = ?',
        [A_PENDING],
      );
      assert.equal(kept?.c, null);
    });

    it('an alert an old instance writes after the upgrade (no message) is queued by the worker', async () => {
      const late = id(24);
      const n4 = id(4);
      await rawSql(store).run(
        `INSERT INTO notifications (id, dedup_key, received_at, updated_at, token_requestor_id, event_type, status,
           pan_last4, encrypted_data) VALUES (?, 'dedup-4', ?, ?, '40010030273', 'CTP_ENROLLMENT_ATTEMPT', 'accepted', '0002', 'x')`,
        [n4, T + 4, T + 4],
      );
      await rawSql(store).run(
        `INSERT INTO risk_alerts (id, notification_id, card_fingerprint, created_at, received_at, status, level,
           attempts, next_attempt_at) VALUES (?, ?, 'fp', ?, ?, 'pending', 'high', 0, ?)`,
        [late, n4, T, T, T],
      );
      assert.equal(await outbox.adoptPendingAlerts(), 1);
      assert.equal(await outbox.adoptPendingAlerts(), 0, 'once');
      const [row] = (await outbox.list({ scope: ALL_ISSUERS, kind: 'alert', limit: 10 })).filter(
        (d) => d.id === late,
      );
      assert.deepEqual(
        [row?.status, row?.alertId, row?.sink],
        ['pending', late, ALERT_DESTINATION],
      );
      await rawSql(store).run("UPDATE deliveries SET status = 'dead' WHERE id = ?", [late]);
    });

    it('an alert the previous release sent meanwhile is not sent again, and stays sent', async () => {
      const n5 = id(5);
      const a5 = id(25);
      const sql = rawSql(store);
      await sql.run(
        `INSERT INTO notifications (id, dedup_key, received_at, updated_at, token_requestor_id, event_type, status,
           pan_last4, encrypted_data) VALUES (?, 'dedup-5', ?, ?, '40010030273', 'CTP_ENROLLMENT_ATTEMPT', 'accepted', '0002', 'x')`,
        [n5, T + 5, T + 5],
      );
      await sql.run(
        `INSERT INTO risk_assessments (notification_id, received_at, assessed_at, score, level, reasons, shadow, directory)
           VALUES (?, ?, ?, 90, 'high', '[]', '[]', 'local')`,
        [n5, T + 5, T + 5],
      );
      await sql.run(
        `INSERT INTO risk_alerts (id, notification_id, card_fingerprint, created_at, received_at, status, level,
           attempts, next_attempt_at) VALUES (?, ?, 'fp', ?, ?, 'pending', 'high', 0, ?)`,
        [a5, n5, T, T, T],
      );
      assert.equal(await outbox.adoptPendingAlerts(), 1);
      // The old sender got there between the adoption and the claim.
      await sql.run(
        "UPDATE risk_alerts SET status = 'sent', sent_at = ?, recipient_ciphertext = NULL WHERE id = ?",
        [T + 9, a5],
      );
      const sent: OutgoingAlert[] = [];
      const destination = alertDestination(
        ALERT_DESTINATION,
        {
          type: 'webhook',
          concurrency: 1,
          send: async (a) => void sent.push(a),
          close: async () => {},
        },
        { defaultLanguage: 'en' } as unknown as Parameters<typeof alertDestination>[2],
        dp,
      );
      const [claimed] = await outbox.claim({
        sink: ALERT_DESTINATION,
        limit: 10,
        leaseMs: 60_000,
        workerId: 'upgrade-test',
      });
      assert.equal(claimed?.alert?.id, a5);
      assert.deepEqual(await destination.send(claimed!), { ok: true, messageId: a5 });
      assert.deepEqual(sent, []);
      // A dead outcome recorded late (another worker) does not turn it dead either.
      const dead = { error: 'NO_RECIPIENT', httpStatus: null, nextAttemptAt: T, dead: true };
      assert.ok(await outbox.fail(claimed!.id, claimed!.leaseToken, dead, a5));
      const [row] = (await store.openRiskStores().alerts.list(20)).filter((a) => a.id === a5);
      assert.equal(row?.status, 'sent');
      await sql.run("UPDATE deliveries SET status = 'delivered' WHERE id = ?", [a5]);
    });

    it('dead alerts and events are retried by kind, as operators do', async () => {
      // Without a kind, only events: no stale "was this you?" from a routine retry.
      assert.equal(
        await outbox.retry({ scope: ALL_ISSUERS, dead: true, sink: ALERT_DESTINATION }),
        0,
      );
      // The one dead since the upgrade, and the late one marked dead above.
      assert.equal(await outbox.retry({ scope: ALL_ISSUERS, dead: true, kind: 'alert' }), 2);
      const [alert] = (await store.openRiskStores().alerts.list(10)).filter((a) => a.id === A_DEAD);
      assert.equal(alert?.status, 'pending');
      assert.deepEqual(
        (await outbox.list({ scope: ALL_ISSUERS, kind: 'event', status: 'dead' })).length,
        1,
      );
      clock += 1_000;
      const again = await outbox.claim({
        sink: ALERT_DESTINATION,
        limit: 10,
        leaseMs: 60_000,
        workerId: 'upgrade-test',
      });
      assert.deepEqual(again.map((d) => [d.id, d.attempt]).sort(), [
        [A_DEAD, 1],
        [id(24), 1],
      ]);
      const events = await outbox.claim({
        sink: 'core',
        limit: 10,
        leaseMs: 60_000,
        workerId: 'w',
      });
      assert.deepEqual(
        events.map((d) => [d.id, d.kind]),
        [[D_PENDING, 'event']],
      );
      // Retention: an event still owed holds its notification's personal data; an alert's
      // message does not (it needs only the alert's row), or alerts switched off would keep
      // the data forever.
      assert.equal(await store.purge(T + 86_400_000), 4);
      const kept = await rawSql(store).all<{ id: string }>(
        'SELECT id FROM notifications WHERE purged_at IS NULL',
      );
      assert.deepEqual(
        kept.map((r) => r.id),
        [N1],
      );
    });
  });
}

/** A driver on a connection of the test's own, outside any store. */
function rawDriver(dialect: string, url: string): { sql: SqlDriver; close(): Promise<void> } {
  if (dialect === 'sqlite') {
    const raw = new Database(url.slice('sqlite:'.length));
    return { sql: sqliteSqlDriver(raw), close: async () => void raw.close() };
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return { sql: postgresSqlDriver(pool), close: () => pool.end() };
}

/** Runs a migration's SQL as the store would (several statements at once). */
async function exec(dialect: string, url: string, sql: string): Promise<void> {
  if (dialect === 'sqlite') {
    const raw = new Database(url.slice('sqlite:'.length));
    raw.exec(sql);
    raw.close();
    return;
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(sql);
  await c.end();
}
