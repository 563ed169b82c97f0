import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { outboxDepths } from '../../src/presenters/sink-presenter.js';
import { DataProtector } from '../../src/protect/data-protector.js';
import { countEnrollers } from '../../src/risk/count-enrollers.js';
import { openCardholder, sealCardholder } from '../../src/risk/directory/cardholder-codec.js';
import { LocalDirectory } from '../../src/risk/directory/local-directory.js';
import type { NotificationRecord } from '../../src/storage/notification-record.js';
import type { NotificationStore } from '../../src/storage/notification-store.js';
import { openStore } from '../../src/storage/open-store.js';
import { ALERT_DESTINATION } from '../../src/storage/outbox-store.js';
import { postgresMigrations } from '../../src/storage/postgres/postgres-migrations.js';
import type { AlertDraft, AssessmentRecord, RiskStores } from '../../src/storage/risk-store.js';
import { sqliteMigrations } from '../../src/storage/sqlite/sqlite-migrations.js';
import { uuidV7 } from '../../src/util/uuid-v7.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { holder, inputsFor } from '../support/risk-context.js';

const dp = new DataProtector([{ id: 'k1', key: randomBytes(32) }], randomBytes(32));
const T0 = Date.UTC(2026, 0, 5, 12);
const HOUR = 3_600_000;

function notification(o: {
  receivedAt: number;
  fingerprint: string;
  status?: 'accepted' | 'quarantined';
  eventType?: string;
}): NotificationRecord {
  const id = uuidV7(o.receivedAt);
  return {
    id,
    issuer: 'default',
    dedupKey: `d-${id}`,
    receivedAt: o.receivedAt,
    tokenRequestorId: '40010030273',
    eventType: o.eventType ?? 'CTP_ENROLLMENT_ATTEMPT',
    status: o.status ?? 'accepted',
    reason: o.status === 'quarantined' ? 'JWE_KID_UNKNOWN' : null,
    reasonFields: null,
    jwsKid: 'v',
    jweKid: 'i',
    tsp: 'V',
    firstName: 'Robert',
    lastName: 'Smith',
    contactEmail: 'r@example.org',
    phoneNumber: '+447700900123',
    panFingerprint: o.fingerprint,
    panBin: '453201',
    panLast4: '1234',
    panLuhnValid: true,
    dataKeyId: 'k1',
    panCiphertext: Buffer.from('x'),
    payloadCiphertext: Buffer.from('y'),
    encryptedData: `e-${id}`,
  };
}

function assessment(n: NotificationRecord, o: Partial<AssessmentRecord> = {}): AssessmentRecord {
  return {
    notificationId: n.id,
    receivedAt: n.receivedAt,
    assessedAt: n.receivedAt + 10,
    cardFingerprint: n.panFingerprint,
    emailHash: 'e1',
    phoneHash: 'p1',
    emailOnFile: false,
    phoneOnFile: false,
    score: 40,
    level: 'medium',
    reasons: [{ code: 'NAME_MISMATCH', detail: 'similarity=0.20' }],
    shadow: [],
    directory: 'found',
    inputs: inputsFor(),
    ...o,
  };
}

function alert(n: NotificationRecord, o: Partial<AlertDraft> = {}): AlertDraft {
  const id = uuidV7(n.receivedAt);
  return {
    id,
    notificationId: n.id,
    cardFingerprint: n.panFingerprint,
    createdAt: n.receivedAt + 10,
    receivedAt: n.receivedAt,
    level: 'high',
    language: 'fr',
    panLast4: '1234',
    recipient: { dataKeyId: 'k1', ciphertext: dp.encrypt(Buffer.from('{}'), id) },
    windowMs: HOUR,
    ...o,
  };
}

describe('migrations', () => {
  it('versions are unique and ascending, the same in both dialects (gaps allowed: each applies alone)', () => {
    const v = (m: readonly { version: number }[]) => m.map((x) => x.version);
    assert.deepEqual(v(sqliteMigrations), v(postgresMigrations));
    const versions = v(sqliteMigrations);
    assert.deepEqual(
      versions,
      [...new Set(versions)].sort((a, b) => a - b),
    );
    assert.ok(versions.includes(3));
  });
});

for (const dialect of await dialects()) {
  describe(`risk storage on ${dialect.name}`, () => {
    let db: TestDatabase;
    let store: NotificationStore;
    let s: RiskStores;

    before(async () => {
      db = await dialect.create();
      store = await openStore({ url: db.url, poolSize: 4, statementTimeoutMs: 5000 });
      await store.migrate();
      await store.migrate(); // idempotent
      s = store.openRiskStores();
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    it('cardholders: upsert counts inserts and updates, contacts are ciphertext at rest, the local directory decrypts', async () => {
      const a = sealCardholder(
        dp,
        'fp-a',
        holder({ emails: ['robert.smith@example.org'], language: 'fr' }),
      );
      const b = sealCardholder(dp, 'fp-b', holder({ firstName: 'Alice', status: 'blocked' }));
      assert.deepEqual(await s.cardholders.upsert([a, b]), { inserted: 2, updated: 0 });
      assert.deepEqual(
        await s.cardholders.upsert([
          sealCardholder(dp, 'fp-a', holder({ phones: ['+447700900999'] })),
        ]),
        { inserted: 0, updated: 1 },
      );
      assert.equal(await s.cardholders.count(), 2);
      const raw = await s.cardholders.get('fp-a');
      assert.ok(
        raw && !raw.contactCiphertext.toString('latin1').includes('example.org'),
        'no email in clear',
      );
      assert.deepEqual(openCardholder(dp, raw).phones, ['+447700900999']);
      assert.throws(
        () => openCardholder(dp, { ...raw, fingerprint: 'fp-b' }),
        'ciphertext bound to its card',
      );
      const dir = new LocalDirectory(s.cardholders, dp);
      assert.deepEqual(await dir.lookup('fp-none'), { kind: 'unknown' });
      const found = await dir.lookup('fp-b');
      assert.equal(found.kind === 'found' && found.cardholder.status, 'blocked');
    });

    it('history: attempts per window, enroller keys and cards sharing a contact', async () => {
      const fp = 'fp-hist';
      const ns = [T0 - 8 * 24 * HOUR, T0 - 3 * 24 * HOUR, T0 - 2 * HOUR, T0 - HOUR, T0].map((t) =>
        notification({ receivedAt: t, fingerprint: fp }),
      );
      for (const n of ns) await store.record(n);
      await store.record(
        notification({
          receivedAt: T0 - HOUR,
          fingerprint: fp,
          eventType: 'CTP_ENROLLMENT_UPDATE',
        }),
      );
      await store.record(notification({ receivedAt: T0 + HOUR, fingerprint: fp }));
      assert.equal(await s.risk.countAttempts(fp, 'CTP_ENROLLMENT_ATTEMPT', T0 - 24 * HOUR, T0), 3);
      assert.equal(
        await s.risk.countAttempts(fp, 'CTP_ENROLLMENT_ATTEMPT', T0 - 7 * 24 * HOUR, T0),
        4,
      );

      await s.risk.saveAssessment(assessment(ns[2]!, { emailHash: 'e1', phoneHash: 'p1' }));
      await s.risk.saveAssessment(assessment(ns[3]!, { emailHash: 'e2', phoneHash: 'p1' }));
      const keys = await s.risk.enrollerKeys(fp, T0 - 7 * 24 * HOUR, T0, ns[4]!.id);
      assert.equal(keys.length, 2);
      assert.equal(
        countEnrollers([...keys, { emailHash: 'e3', phoneHash: 'p9' }]),
        2,
        'a shared phone makes one enroller',
      );

      for (const [i, f] of ['fp-r1', 'fp-r2', 'fp-r3'].entries()) {
        const n = notification({ receivedAt: T0 - i * HOUR, fingerprint: f });
        await store.record(n);
        await s.risk.saveAssessment(
          assessment(n, { emailHash: 'ring', emailOnFile: f === 'fp-r3' }),
        );
      }
      assert.equal(
        await s.risk.otherCardsSharing('email', 'ring', T0 - 24 * HOUR, T0, 'fp-r1'),
        1,
        'on-file uses and the card itself do not count',
      );
      assert.equal(await s.risk.otherCardsSharing('email', 'ring', T0 - 24 * HOUR, T0, 'fp-x'), 2);
      assert.equal(
        await s.risk.otherCardsSharing('email', 'ring', T0 - 30 * 60_000, T0, 'fp-x'),
        1,
        'window',
      );
    });

    it('assessments: first one wins; read back; unassessed lists accepted ones in the horizon only', async () => {
      const n = notification({ receivedAt: T0 + 5 * HOUR, fingerprint: 'fp-once' });
      const q = notification({
        receivedAt: T0 + 5 * HOUR,
        fingerprint: 'fp-once',
        status: 'quarantined',
      });
      await store.record(n);
      await store.record(q);
      assert.deepEqual(await s.risk.unassessed(T0 + 4 * HOUR, T0 + 6 * HOUR, 10), [n.id]);
      assert.deepEqual(await s.risk.saveAssessment(assessment(n, { score: 12, level: 'low' })), {
        saved: true,
        alert: 'none',
      });
      assert.deepEqual(await s.risk.saveAssessment(assessment(n, { score: 99, level: 'high' })), {
        saved: false,
        alert: 'none',
      });
      assert.ok(await s.risk.isAssessed(n.id));
      const got = (await s.risk.assessments([n.id, 'missing'])).get(n.id);
      assert.deepEqual(
        [got?.score, got?.level, got?.reasons[0]?.code],
        [12, 'low', 'NAME_MISMATCH'],
      );
      assert.deepEqual(await s.risk.unassessed(T0 + 4 * HOUR, T0 + 6 * HOUR, 10), []);
      const subject = await s.risk.loadSubject(n.id);
      assert.deepEqual(
        [subject?.panFingerprint, subject?.panLuhnValid, subject?.status],
        ['fp-once', true, 'accepted'],
      );
    });

    it('alerts: one per card per window (atomic), no_contact kept, then through the outbox: claim, lease, retry, dead, sent', async () => {
      const fp = 'fp-alert';
      const at = (h: number) =>
        notification({ receivedAt: T0 + 10 * HOUR + h * 60_000, fingerprint: fp });
      const [a1, a2, a3, a4] = [at(0), at(1), at(2), at(90)];
      for (const n of [a1, a2, a3, a4]) await store.record(n!);
      const r = await Promise.all([
        s.risk.saveAssessment(assessment(a1!), alert(a1!)),
        s.risk.saveAssessment(assessment(a2!), alert(a2!)),
      ]);
      assert.deepEqual(r.map((x) => x.alert).sort(), ['pending', 'suppressed']);
      assert.equal(
        (await s.risk.saveAssessment(assessment(a3!), alert(a3!, { recipient: null }))).alert,
        'no_contact',
      );
      assert.equal(
        (await s.risk.saveAssessment(assessment(a4!), alert(a4!))).alert,
        'pending',
        'window over after an hour',
      );

      // Sent through the one outbox, as messages of kind alert on the alert channel.
      let clock = T0 + 12 * HOUR;
      const outbox = store.openOutbox({ now: () => clock });
      const claim = (t: number) => {
        clock = t;
        return outbox.claim({ sink: ALERT_DESTINATION, limit: 10, leaseMs: 60_000, workerId: 't' });
      };
      const now = T0 + 12 * HOUR;
      const claimed = await claim(now);
      assert.equal(claimed.length, 2);
      assert.deepEqual(await claim(now), [], 'leased');
      const [c1, c2] = claimed;
      assert.equal(c1!.attempt, 1);
      assert.deepEqual([c1!.kind, typeof c1!.alert?.id], ['alert', 'string']);
      const retry = {
        error: 'SMTP_421',
        httpStatus: null,
        nextAttemptAt: now + 5_000,
        dead: false,
      };
      await outbox.fail(c1!.id, c1!.leaseToken, retry, c1!.alert!.id);
      await outbox.complete(c2!.id, c2!.leaseToken, c2!.alert!.id);
      // The queue-depth gauges count alert messages under their destination, as a sink's.
      const [alerts, core] = await outboxDepths(outbox, [ALERT_DESTINATION, 'core']);
      assert.deepEqual(
        [alerts?.name, alerts?.open, alerts?.oldestOpen !== null, core?.name, core?.open],
        [ALERT_DESTINATION, 1, true, 'core', 0],
      );
      assert.deepEqual(await claim(now + 1_000), [], 'not due yet');
      const again = await claim(now + 6_000);
      assert.deepEqual([again.length, again[0]?.attempt], [1, 2]);
      const dead = { error: 'SMTP_550', httpStatus: null, nextAttemptAt: now + 6_000, dead: true };
      await outbox.fail(again[0]!.id, again[0]!.leaseToken, dead, again[0]!.alert!.id);
      assert.deepEqual(await claim(now + 120_000), []);
      const rows = await s.alerts.list(10);
      const byStatus = rows
        .filter((x) => [a1, a2, a3, a4].some((n) => n!.id === x.notificationId))
        .map((x) => x.status)
        .sort();
      assert.deepEqual(byStatus, ['dead', 'no_contact', 'sent', 'suppressed']);
      assert.equal(rows.find((x) => x.status === 'dead')?.lastError, 'SMTP_550');
    });
  });
}
