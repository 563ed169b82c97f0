import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import type { RiskLevel } from '../../src/domain/risk-codes.js';
import { buildAnswerEvent } from '../../src/events/answer-event.js';
import type { NotificationRecord } from '../../src/storage/notification-record.js';
import type { NotificationStore } from '../../src/storage/notification-store.js';
import { openStore } from '../../src/storage/open-store.js';
import type { AlertDraft, AssessmentRecord, CaseDraft } from '../../src/storage/risk-store.js';
import { uuidV7 } from '../../src/util/uuid-v7.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { rawSql } from '../support/raw-sql.js';
import { acceptedRecord, quarantinedVersion, testProtector } from '../support/records.js';
import { inputsFor } from '../support/risk-context.js';

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
      const [row] = (await store.list({ scope: ALL_ISSUERS, limit: 100 })).filter(
        (x) => x.id === r.id,
      );
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
      const [row] = (await store.list({ scope: ALL_ISSUERS, limit: 500 })).filter(
        (x) => x.id === q.id,
      );
      assert.equal(row?.reason, null);
      assert.equal(row?.firstName, retry.firstName);
    });

    it('lists newest first with keyset paging and a status filter, and pages the quarantine', async () => {
      const t0 = Date.now() + 10_000_000;
      const made: NotificationRecord[] = [];
      for (let i = 0; i < 5; i++)
        made.push(i % 2 ? quarantined({ receivedAt: t0 + i }) : record({ receivedAt: t0 + i }));
      for (const r of made) await store.record(r);
      const page1 = await store.list({ scope: ALL_ISSUERS, limit: 2 });
      assert.deepEqual(
        page1.map((r) => r.id),
        [made[4]!.id, made[3]!.id],
      );
      const page2 = await store.list({
        scope: ALL_ISSUERS,
        limit: 2,
        before: { receivedAt: page1[1]!.receivedAt, id: page1[1]!.id },
      });
      assert.deepEqual(
        page2.map((r) => r.id),
        [made[2]!.id, made[1]!.id],
      );
      const q = await store.list({ scope: ALL_ISSUERS, limit: 2, status: 'quarantined' });
      assert.deepEqual(
        q.map((r) => r.id),
        [made[3]!.id, made[1]!.id],
      );

      const all: Awaited<ReturnType<NotificationStore['listQuarantined']>> = [];
      let after = '';
      for (;;) {
        const batch = await store.listQuarantined(ALL_ISSUERS, 1, after);
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

const HOUR = 3_600_000;
const assessed = (
  n: NotificationRecord,
  level: RiskLevel,
  at = n.receivedAt + 5,
): AssessmentRecord => ({
  notificationId: n.id,
  receivedAt: n.receivedAt,
  assessedAt: at,
  cardFingerprint: n.panFingerprint,
  emailHash: null,
  phoneHash: null,
  emailOnFile: true,
  phoneOnFile: true,
  score: level === 'high' ? 85 : level === 'medium' ? 45 : 0,
  level,
  reasons: level === 'low' ? [] : [{ code: 'CONTACT_MISMATCH', detail: 'email=0 phone=0' }],
  shadow: [],
  directory: 'found',
  inputs: inputsFor(),
});
const draft = (opens: boolean): CaseDraft => ({ id: uuidV7(), opens, panLast4: '1234' });
const sentAlert = (n: NotificationRecord, createdAt = n.receivedAt + 5): AlertDraft => {
  const id = uuidV7(createdAt);
  return {
    id,
    notificationId: n.id,
    cardFingerprint: n.panFingerprint,
    createdAt,
    receivedAt: n.receivedAt,
    level: 'low',
    language: 'en',
    panLast4: n.panLast4,
    recipient: { dataKeyId: 'k1', ciphertext: dp.encrypt(Buffer.from('{}'), id) },
    windowMs: 0,
  };
};

for (const dialect of await dialects()) {
  describe(`fraud cases on ${dialect.name}`, () => {
    let db: TestDatabase;
    let store: NotificationStore;
    const save = async (
      n: NotificationRecord,
      level: RiskLevel,
      opens = level === 'high',
      alert?: AlertDraft,
    ) => {
      await store.record(n);
      return store.openRiskStores().risk.saveAssessment(assessed(n, level), alert, draft(opens));
    };
    const cases = () => store.openAdminStores().cases;
    const answer = (alertId: string, a: 'recognised' | 'not_recognised', at = Date.now()) =>
      cases().answer({
        alertId,
        scope: ALL_ISSUERS,
        answer: a,
        at,
        by: 'bank.app',
        windowMs: 72 * HOUR,
        closeOnRecognised: false,
        cases: true,
        newCaseId: uuidV7(at),
      });

    before(async () => {
      db = await dialect.create();
      store = await openStore(
        { url: db.url, poolSize: 4, statementTimeoutMs: 5000 },
        { sinks: ['core', 'fraud-ops'] },
      );
      await store.migrate();
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    it('a case opens at minLevel, gathers the later attempts on the card whatever their level, and only then', async () => {
      const t = Date.now();
      const first = record({ receivedAt: t });
      const card = {
        panFingerprint: first.panFingerprint,
        panBin: first.panBin,
        panLast4: first.panLast4,
      };
      assert.equal((await save(first, 'medium')).caseId, null, 'below minLevel: no case');
      const high = record({ ...card, receivedAt: t + 1 });
      const opened = await save(high, 'high');
      assert.ok(opened.caseId);
      const low = record({ ...card, receivedAt: t + 2 });
      assert.equal((await save(low, 'low')).caseId, opened.caseId, 'a low attempt joins');
      const other = await save(record({ receivedAt: t + 3 }), 'high');
      assert.notEqual(other.caseId, opened.caseId, 'another card, another case');

      const c = (await cases().detail(opened.caseId!, ALL_ISSUERS))!;
      assert.deepEqual(
        [c.status, c.level, c.openedBy, c.attemptCount, c.panLast4],
        ['open', 'high', 'assessment', 2, '1234'],
      );
      assert.deepEqual(
        c.attempts.map((a) => a.notificationId),
        [high.id, low.id],
      );
      assert.deepEqual(
        c.notes.map((n) => n.kind),
        ['opened', 'attempt', 'attempt'],
      );
      assert.equal(await cases().caseOf(first.id), undefined);
    });

    it('two assessments opening a case on one card at once make one case', async () => {
      const a = record();
      const b = record({ panFingerprint: a.panFingerprint, receivedAt: a.receivedAt + 1 });
      const [x, y] = await Promise.all([save(a, 'high'), save(b, 'high')]);
      assert.equal(x.caseId, y.caseId);
      assert.equal((await cases().detail(x.caseId!, ALL_ISSUERS))!.attemptCount, 2);
    });

    it('assigned, noted and closed once; a closed case refuses changes; its notes are append-only', async () => {
      const { caseId } = await save(record(), 'high');
      const id = caseId!;
      const t = Date.now();
      const assigned = await cases().assign(id, ALL_ISSUERS, 'anna', t, 'anna');
      assert.ok(
        assigned.ok && assigned.case.status === 'in_review' && assigned.case.assignee === 'anna',
      );
      const back = await cases().assign(id, ALL_ISSUERS, null, t + 1, 'anna');
      assert.ok(back.ok && back.case.status === 'open');
      assert.ok((await cases().addNote(id, ALL_ISSUERS, 'looked at it', t + 2, 'anna')).ok);
      const closed = await cases().close(
        id,
        ALL_ISSUERS,
        'inconclusive',
        'no answer',
        t + 3,
        'anna',
      );
      assert.ok(
        closed.ok && closed.case.status === 'closed' && closed.case.disposition === 'inconclusive',
      );
      assert.deepEqual(await cases().close(id, ALL_ISSUERS, 'legitimate', 'again', t + 4, 'anna'), {
        ok: false,
        code: 'CASE_CLOSED',
      });
      assert.deepEqual(await cases().assign(id, ALL_ISSUERS, 'anna', t + 4, 'anna'), {
        ok: false,
        code: 'CASE_CLOSED',
      });
      assert.deepEqual(await cases().addNote(uuidV7(), ALL_ISSUERS, 'x', t, 'anna'), {
        ok: false,
        code: 'NOT_FOUND',
      });
      const notes = (await cases().detail(id, ALL_ISSUERS))!.notes;
      assert.deepEqual(
        notes.map((n) => n.kind),
        ['opened', 'attempt', 'assigned', 'assigned', 'note', 'closed'],
      );
      assert.deepEqual(
        [notes[4]!.text, notes[5]!.text, notes[5]!.detail],
        ['looked at it', 'no answer', { disposition: 'inconclusive' }],
      );
      const sql = rawSql(store);
      await assert.rejects(
        sql.run("UPDATE case_notes SET text = 'changed' WHERE case_id = ?", [id]),
      );
      await assert.rejects(sql.run('DELETE FROM case_notes WHERE case_id = ?', [id]));
    });

    it('the queue: overdue first, then escalated, then oldest; closed last; filters by status, level, assignee, overdue', async () => {
      // A fresh card per case; opened_at is the assessment time, set here.
      const at = async (hoursAgo: number, level: RiskLevel) => {
        const n = record({ receivedAt: Date.now() - hoursAgo * HOUR });
        await store.record(n);
        const r = await store
          .openRiskStores()
          .risk.saveAssessment(
            assessed(n, level, Date.now() - hoursAgo * HOUR),
            undefined,
            draft(true),
          );
        return r.caseId!;
      };
      const fresh = await at(1, 'medium');
      const old = await at(30, 'high');
      const older = await at(40, 'high');
      const recent = await at(2, 'high');
      // Escalated: a cardholder said "not recognised" (through an alert of that case's attempt).
      const n = record();
      const { caseId: escalated } = await save(n, 'high', true, sentAlert(n));
      const [alert] = (await store.openRiskStores().alerts.list(500)).filter(
        (a) => a.notificationId === n.id,
      );
      assert.ok((await answer(alert!.id, 'not_recognised')).ok);
      const overdueAt = Date.now() - 24 * HOUR;
      const list = await cases().list({ scope: ALL_ISSUERS, overdueAt, limit: 500, offset: 0 });
      const ids = list.map((c) => c.id);
      const pos = (id: string | null | undefined) => ids.indexOf(id!);
      assert.ok(pos(older) < pos(old), 'overdue, oldest first');
      assert.ok(pos(old) < pos(escalated!), 'overdue before escalated');
      assert.ok(
        pos(escalated!) < pos(recent) && pos(recent) < pos(fresh),
        'then escalated, then oldest',
      );
      const closedIdx = list.findIndex((c) => c.status === 'closed');
      assert.ok(
        closedIdx < 0 || list.slice(closedIdx).every((c) => c.status === 'closed'),
        'closed last',
      );
      const overdue = await cases().list({
        scope: ALL_ISSUERS,
        overdue: true,
        overdueAt,
        limit: 500,
        offset: 0,
      });
      assert.deepEqual(
        new Set(overdue.map((c) => c.id)).has(old) && !overdue.some((c) => c.id === fresh),
        true,
      );
      const medium = await cases().list({
        scope: ALL_ISSUERS,
        level: 'medium',
        overdueAt,
        limit: 500,
        offset: 0,
      });
      assert.ok(medium.every((c) => c.level === 'medium') && medium.some((c) => c.id === fresh));
      await cases().assign(fresh, ALL_ISSUERS, 'ben', Date.now(), 'ben');
      assert.deepEqual(
        (
          await cases().list({
            scope: ALL_ISSUERS,
            assignee: 'ben',
            overdueAt,
            limit: 500,
            offset: 0,
          })
        ).map((c) => c.id),
        [fresh],
      );
      const page = await cases().list({ scope: ALL_ISSUERS, overdueAt, limit: 2, offset: 1 });
      assert.deepEqual(
        page.map((c) => c.id),
        ids.slice(1, 3),
        'offset paging',
      );
    });

    it('answers: once per alert; none for unknown, unsent or expired alerts; not_recognised queues the answer event per sink; labels read back', async () => {
      const n = record();
      await save(n, 'low', false, sentAlert(n));
      const [alert] = (await store.openRiskStores().alerts.list(500)).filter(
        (a) => a.notificationId === n.id,
      );
      assert.equal(alert!.status, 'pending');
      assert.deepEqual(await answer(uuidV7(), 'recognised'), {
        ok: false,
        code: 'ALERT_NOT_FOUND',
      });
      assert.deepEqual(await answer(alert!.id, 'recognised', Date.now() + 73 * HOUR), {
        ok: false,
        code: 'ALERT_EXPIRED',
      });
      const [first, second] = await Promise.all([
        answer(alert!.id, 'not_recognised'),
        answer(alert!.id, 'recognised'),
      ]);
      assert.equal([first, second].filter((o) => o.ok).length, 1, 'one answer, even at once');
      assert.ok([first, second].some((o) => !o.ok && o.code === 'ALERT_ALREADY_ANSWERED'));
      const won = (first.ok ? first : second) as Extract<typeof first, { ok: true }>;

      // A suppressed alert (the card had one within the window) was never sent: nothing to answer.
      const m = record({ panFingerprint: n.panFingerprint });
      await save(m, 'low', false, { ...sentAlert(m), windowMs: HOUR });
      const [suppressed] = (await store.openRiskStores().alerts.list(500)).filter(
        (a) => a.notificationId === m.id,
      );
      assert.equal(suppressed!.status, 'suppressed');
      assert.deepEqual(await answer(suppressed!.id, 'recognised'), {
        ok: false,
        code: 'ALERT_NOT_FOUND',
      });

      if (won.answer === 'not_recognised') {
        assert.equal(won.events, 2);
        assert.ok(won.caseId);
        const outbox = store.openOutbox({ riskWaitMs: 30_000 });
        const rows = await outbox.list({ scope: ALL_ISSUERS, notificationId: n.id, limit: 10 });
        assert.deepEqual(
          rows
            .filter((d) => d.event === 'cardholder_answer')
            .map((d) => [d.sink, d.alertId])
            .sort(),
          [
            ['core', alert!.id],
            ['fraud-ops', alert!.id],
          ],
        );
        const claimed = await outbox.claim({
          sink: 'core',
          limit: 50,
          leaseMs: 60_000,
          workerId: 'test',
        });
        const d = claimed.find((x) => x.source.answer?.alertId === alert!.id);
        assert.ok(d, 'claimable, with the answer');
        const event = buildAnswerEvent(d.source, { includePan: false });
        assert.deepEqual(
          [event.id, event.answer, event.caseId, event.notificationId],
          [`evt_${alert!.id}`, 'not_recognised', won.caseId, n.id],
        );
        assert.equal(JSON.stringify(event).includes(n.firstName!), false);
        // The attempt's own event is a delivery of its own, claimed alongside, without the answer.
        const own = claimed.filter((x) => x.source.notificationId === n.id && !x.source.answer);
        assert.equal(own.length, 1);
      }
      const labelled = await cases().labelled(0, 10_000);
      const row = labelled.find((l) => l.notificationId === n.id)!;
      assert.equal(row.answer, won.answer);
      assert.deepEqual(row.inputs, inputsFor());
      if (won.caseId) {
        await cases().close(
          won.caseId,
          ALL_ISSUERS,
          'confirmed_fraud',
          'checked',
          Date.now(),
          'anna',
        );
        const again = (await cases().labelled(0, 10_000)).find((l) => l.notificationId === n.id)!;
        assert.equal(again.disposition, 'confirmed_fraud');
      }
      // Keyset paging returns every row once, oldest first.
      const paged: string[] = [];
      for (let after: { receivedAt: number; id: string } | undefined; ; ) {
        const page = await cases().labelled(0, 3, after);
        paged.push(...page.map((p) => p.notificationId));
        if (page.length < 3) break;
        after = { receivedAt: page[2]!.receivedAt, id: page[2]!.notificationId };
      }
      assert.deepEqual(
        paged,
        labelled.map((l) => l.notificationId),
      );
    });

    it('channel is a role; nothing else outside the four is', async () => {
      const ops = store.openAdminStores().operators;
      assert.ok(
        await ops.create({
          id: uuidV7(),
          name: `chan-${dialect.name}`,
          role: 'channel',
          scope: ALL_ISSUERS,
          passwordHash: 'x',
          tokenHash: `t-${uuidV7()}`,
          tokenExpiresAt: null,
          createdAt: 1,
        }),
      );
      assert.equal((await ops.byName(`chan-${dialect.name}`))?.role, 'channel');
      await assert.rejects(
        rawSql(store).run(
          "INSERT INTO operators (id, name, role, password_hash, token_hash, created_at) VALUES ('z', 'z', 'root', 'x', 'y', 1)",
        ),
      );
    });
  });
}

async function openStoreFor(url: string): Promise<NotificationStore> {
  return openStore({ url, poolSize: 4, statementTimeoutMs: 5000 });
}

/** Reads a ciphertext column through the dialect's own handle. */
async function readCiphertext(store: NotificationStore, id: string): Promise<Buffer> {
  if (store.dialect === 'sqlite') {
    const { SqliteStore } = await import('../../src/storage/sqlite/sqlite-store.js');
    const row = (store as InstanceType<typeof SqliteStore>).database
      .prepare('SELECT pan_ciphertext FROM notifications WHERE id = ?')
      .get(id) as { pan_ciphertext: Buffer };
    return row.pan_ciphertext;
  }
  const { PostgresStore } = await import('../../src/storage/postgres/postgres-store.js');
  const r = await (store as InstanceType<typeof PostgresStore>).pool.query<{
    pan_ciphertext: Buffer;
  }>('SELECT pan_ciphertext FROM notifications WHERE id = $1', [id]);
  return r.rows[0]!.pan_ciphertext;
}
