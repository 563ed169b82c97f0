import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { createLogger } from '../../src/logger.js';
import { createRuntime } from '../../src/runtime.js';
import type { StoredAssessment } from '../../src/storage/risk-store.js';
import {
  attemptPayload,
  type FixtureHolder,
  fixtureHolder,
  importHolders,
} from '../support/cardholder-fixtures.js';
import { runCli } from '../support/cli-process.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { assertNoPersonalData, testPan } from '../support/personal-data.js';
import { capturedLogs, startTestServer, type TestServer } from '../support/server-harness.js';
import { processTempDir } from '../support/temp-dir.js';
import { testPki } from '../support/test-pki.js';

const codes = (a: StoredAssessment) => a.reasons.map((r) => r.code);
/** Score, level and reasons as one value, so that a failure shows all three. */
const summary = (a: StoredAssessment) => ({ score: a.score, level: a.level, reasons: a.reasons });
/** The enroller is the cardholder, as on file, except for what `over` changes. */
const own = (h: FixtureHolder, over: Partial<Parameters<typeof attemptPayload>[1]> = {}) =>
  attemptPayload(h.pan, {
    firstName: h.firstName,
    lastName: h.lastName,
    email: h.email,
    phone: h.phone,
    ...over,
  });

for (const dialect of await dialects()) {
  describe(`risk assessment on ${dialect.name}`, () => {
    let db: TestDatabase;
    let s: TestServer;
    let alice: FixtureHolder;
    let blocked: FixtureHolder;

    before(async () => {
      db = await dialect.create();
      s = await startTestServer(await testPki(), {
        storageUrl: db.url,
        extra: {
          risk: {
            defaultCountry: 'GB',
            rules: { DISPOSABLE_EMAIL: { mode: 'shadow' } },
            sweep: { graceSeconds: 0 },
          },
        },
      });
      alice = fixtureHolder({ firstName: 'Elizabeth', lastName: 'Ashworth' });
      blocked = fixtureHolder({ status: 'blocked' });
      await importHolders(s, [alice, blocked]);
    });
    after(async () => {
      await s.close();
      await db.drop();
    });

    /** POSTs as Visa and waits for the stored assessment of that notification. */
    const send = async (
      payload: Record<string, unknown>,
    ): Promise<{ id: string; risk: StoredAssessment }> => {
      const res = await s.post({ encryptedData: await s.encode(payload) });
      assert.equal(res.status, 200);
      const [row] = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 });
      const id = row!.id;
      const risk = await eventually(
        async () => (await s.runtime.risk!.stores.risk.assessments([id])).get(id),
        'assessment',
      );
      return { id, risk };
    };

    /** Stores notifications through a runtime with risk off, so nothing assesses them. */
    const storeUnassessed = async (payloads: Record<string, unknown>[]): Promise<string[]> => {
      const quiet = await createRuntime(
        { ...s.config, risk: { ...s.config.risk, enabled: false } },
        createLogger('silent'),
        { migrate: false },
      );
      const { buildApp } = await import('../../src/app.js');
      const app = await buildApp({
        config: s.config,
        pipelines: quiet.pipelines,
        store: quiet.store,
        logger: createLogger('silent'),
      });
      const ids: string[] = [];
      try {
        for (const payload of payloads) {
          const res = await app.inject({
            method: 'POST',
            url: '/vtis/v1/tokenRequestors/40010030273/cardEnrollment/notification?eventType=CTP_ENROLLMENT_ATTEMPT',
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify({ encryptedData: await s.encode(payload) }),
          });
          assert.equal(res.statusCode, 200);
          ids.push((await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 }))[0]!.id);
        }
      } finally {
        await app.close();
        await quiet.close();
      }
      return ids;
    };

    it('the cardholder, typing their name and phone their own way: low, no reasons', async () => {
      const { risk } = await send(
        attemptPayload(alice.pan, {
          firstName: 'Liz',
          lastName: 'ASHWORTH',
          email: alice.email.toUpperCase(),
          phone: `0${alice.phone.slice(3)}`,
        }),
      );
      assert.deepEqual([risk.score, risk.level, risk.reasons], [0, 'low', []]);
    });

    it('an unrelated enroller on a real card: high, with name, email, phone and contact reasons', async () => {
      const { risk } = await send(
        attemptPayload(alice.pan, {
          firstName: 'Victor',
          lastName: 'Kowalski',
          email: 'vk@example.net',
          phone: '+447700900999',
        }),
      );
      // 40 + 15 + 15 + 40 + 30 = 140, capped at 100.
      assert.deepEqual([risk.score, risk.level], [100, 'high']);
      assert.equal(risk.reasons[0]!.code, 'NAME_MISMATCH');
      assert.ok(Number(risk.reasons[0]!.detail.slice('similarity='.length)) < 0.6);
      assert.deepEqual(risk.reasons.slice(1), [
        { code: 'EMAIL_MISMATCH', detail: 'onFile=1' },
        { code: 'PHONE_MISMATCH', detail: 'onFile=1' },
        { code: 'CONTACT_MISMATCH', detail: 'email=0 phone=0' },
        { code: 'MANY_ENROLLERS', detail: 'enrollers=2 limit=1' },
      ]);
    });

    it('blocked and unknown cards are high; shadow rules are logged with their would-be effect, not counted', async () => {
      const b = await send(
        attemptPayload(blocked.pan, {
          firstName: blocked.firstName,
          lastName: blocked.lastName,
          email: blocked.email,
          phone: blocked.phone,
        }),
      );
      assert.deepEqual(summary(b.risk), {
        score: 80,
        level: 'high',
        reasons: [{ code: 'CARD_NOT_ACTIVE', detail: 'status=blocked' }],
      });

      const u = await send(
        attemptPayload(testPan(77_001), {
          firstName: 'Nobody',
          lastName: 'Known',
          email: 'nobody@mailinator.com',
        }),
      );
      // 70: high at exactly the threshold (risk.levels.high, "lowest score of level high").
      assert.deepEqual(summary(u.risk), {
        score: 70,
        level: 'high',
        reasons: [{ code: 'CARD_UNKNOWN', detail: 'directory=unknown' }],
      });
      assert.deepEqual(u.risk.shadow, [
        { code: 'DISPOSABLE_EMAIL', detail: 'list=mailchecker', points: 25 },
      ]);
      const line = s.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'risk shadow rules' && l.notificationId === u.id);
      assert.ok(line, 'shadow hit logged');
      assert.deepEqual([line.wouldBeScore, line.wouldBeLevel], [95, 'high']);
    });

    // Each attempt on a card of its own (no history): the score is the sum of the default
    // weights (risk-codes.ts), below the cap of 100, so that any weight, any rule's condition
    // and either level threshold (30 and 70, each the lowest score of its level) shows.
    it('one signal at a time, below the cap: exact scores, levels at their thresholds, name similarity at its limits', async () => {
      const cases: [string, (h: FixtureHolder) => Record<string, unknown>, unknown][] = [
        [
          'a new email',
          (h) => own(h, { email: 'renamed.inbox@example.net' }),
          { score: 15, level: 'low', reasons: [{ code: 'EMAIL_MISMATCH', detail: 'onFile=1' }] },
        ],
        [
          'a new phone',
          (h) => own(h, { phone: '+447700900555' }),
          { score: 15, level: 'low', reasons: [{ code: 'PHONE_MISMATCH', detail: 'onFile=1' }] },
        ],
        // 0.6 × surname 1 + 0.4 × given name 0: exactly risk.name.weakAt, still a weak match.
        [
          "a given name unlike the cardholder's (similarity 0.60 = weakAt)",
          (h) => own(h, { firstName: 'Yusuf' }),
          {
            score: 15,
            level: 'low',
            reasons: [{ code: 'NAME_WEAK_MATCH', detail: 'similarity=0.60' }],
          },
        ],
        // Exactly risk.name.matchAt: a match, no reason.
        [
          'a given name at similarity 0.80 = matchAt',
          (h) => own(h, { firstName: 'Maria' }),
          { score: 0, level: 'low', reasons: [] },
        ],
        // 15 + 15 = 30: medium at exactly the threshold.
        [
          'a weak name match and a new phone',
          (h) => own(h, { firstName: 'Alice', phone: '+447700900556' }),
          {
            score: 30,
            level: 'medium',
            reasons: [
              { code: 'NAME_WEAK_MATCH', detail: 'similarity=0.70' },
              { code: 'PHONE_MISMATCH', detail: 'onFile=1' },
            ],
          },
        ],
        [
          "another name, the cardholder's email and phone",
          (h) => own(h, { firstName: 'Victor', lastName: 'Kowalski' }),
          {
            score: 40,
            level: 'medium',
            reasons: [{ code: 'NAME_MISMATCH', detail: 'similarity=0.07' }],
          },
        ],
        // The real name with neither contact on file: 15 + 15 + 40 = 70, high at the threshold.
        [
          'the real name, neither contact on file',
          (h) => own(h, { email: 'taken.over@example.net', phone: '+447700900557' }),
          {
            score: 70,
            level: 'high',
            reasons: [
              { code: 'EMAIL_MISMATCH', detail: 'onFile=1' },
              { code: 'PHONE_MISMATCH', detail: 'onFile=1' },
              { code: 'CONTACT_MISMATCH', detail: 'email=0 phone=0' },
            ],
          },
        ],
      ];
      for (const [what, payload, want] of cases) {
        // One surname for all, so that the similarities below do not depend on the fixture's.
        const h = fixtureHolder({ lastName: 'Whitfield' });
        await importHolders(s, [h]);
        assert.deepEqual(summary((await send(payload(h))).risk), want, what);
      }
      // A card number failing its check digit (ISO/IEC 7812-1) is typed or made up; on file
      // here too, so that the Luhn rule is the one signal.
      const good = testPan(77_002);
      const h = fixtureHolder({ pan: `${good.slice(0, 15)}${(Number(good[15]) + 1) % 10}` });
      await importHolders(s, [h]);
      assert.deepEqual(
        summary((await send(own(h))).risk),
        { score: 40, level: 'medium', reasons: [{ code: 'LUHN_INVALID', detail: 'luhn=0' }] },
        'a card number failing its check digit',
      );
    });

    it('the cardholder enrolling again and again: velocity from the fourth attempt in 24 h and the sixth in 7 days', async () => {
      const h = fixtureHolder();
      await importHolders(s, [h]);
      const velocity24h = (n: number) => ({
        code: 'VELOCITY_24H',
        detail: `attempts=${n} limit=3`,
      });
      const want = [
        { score: 0, level: 'low', reasons: [] },
        { score: 0, level: 'low', reasons: [] },
        { score: 0, level: 'low', reasons: [] },
        { score: 25, level: 'low', reasons: [velocity24h(4)] },
        { score: 25, level: 'low', reasons: [velocity24h(5)] },
        {
          score: 40,
          level: 'medium',
          reasons: [velocity24h(6), { code: 'VELOCITY_7D', detail: 'attempts=6 limit=5' }],
        },
      ];
      for (const [i, w] of want.entries())
        assert.deepEqual(summary((await send(own(h))).risk), w, `attempt ${i + 1}`);
    });

    it('a burst on one card: velocity and enroller counts rise', async () => {
      const card = fixtureHolder();
      await importHolders(s, [card]);
      let last: StoredAssessment | undefined;
      for (let i = 0; i < 5; i++)
        last = (
          await send(
            attemptPayload(card.pan, {
              firstName: 'Eve',
              lastName: `Mallory${i}`,
              email: `eve${i}@example.net`,
            }),
          )
        ).risk;
      // 40 + 15 + 25 + 30 = 110, capped at 100; no phone given, so no phone or contact reason.
      assert.deepEqual([last!.score, last!.level], [100, 'high']);
      assert.deepEqual(codes(last!), [
        'NAME_MISMATCH',
        'EMAIL_MISMATCH',
        'VELOCITY_24H',
        'MANY_ENROLLERS',
      ]);
      assert.deepEqual(last!.reasons.slice(1), [
        { code: 'EMAIL_MISMATCH', detail: 'onFile=1' },
        { code: 'VELOCITY_24H', detail: 'attempts=5 limit=3' },
        { code: 'MANY_ENROLLERS', detail: 'enrollers=5 limit=1' },
      ]);
    });

    it('one enroller email across many cards: a ring', async () => {
      const cards = [fixtureHolder(), fixtureHolder(), fixtureHolder()];
      await importHolders(s, cards);
      const got: StoredAssessment[] = [];
      for (const c of cards)
        got.push(
          (
            await send(
              attemptPayload(c.pan, {
                firstName: c.firstName,
                lastName: c.lastName,
                email: 'collector@example.net',
              }),
            )
          ).risk,
        );
      const email = { code: 'EMAIL_MISMATCH', detail: 'onFile=1' };
      // risk.ring.maxCards is 2: the third card is the first above it. 15 + 50 = 65.
      assert.deepEqual(got.map(summary), [
        { score: 15, level: 'low', reasons: [email] },
        { score: 15, level: 'low', reasons: [email] },
        {
          score: 65,
          level: 'medium',
          reasons: [email, { code: 'ENROLLER_RING', detail: 'cards=3 via=email windowDays=30' }],
        },
      ]);
    });

    it('notifications list shows risk {score, level, reasons}; quarantined ones have none', async () => {
      const configFile = join(processTempDir('ctp-list-'), 'config.json');
      writeFileSync(configFile, JSON.stringify(s.config));
      await s.post({
        encryptedData: await s.encode(
          attemptPayload(alice.pan, { firstName: 'X', lastName: 'Y' }),
          { encryptTo: 'second' },
        ),
      });
      const list = runCli([
        'notifications',
        'list',
        '--config',
        configFile,
        '--format',
        'json',
        '--limit',
        '100',
      ]);
      assert.equal(list.status, 0, list.stderr);
      const items = JSON.parse(list.stdout) as {
        status: string;
        risk: { score: number; level: string; reasons: { code: string; detail: string }[] } | null;
      }[];
      const quarantined = items.filter((i) => i.status === 'quarantined');
      assert.ok(quarantined.length >= 1 && quarantined.every((i) => i.risk === null));
      const accepted = items.filter((i) => i.status === 'accepted');
      assert.ok(accepted.length >= 10 && accepted.every((i) => i.risk !== null));
      for (const i of accepted) {
        assert.deepEqual(Object.keys(i.risk!).sort(), ['level', 'reasons', 'score']);
        assert.ok(i.risk!.score >= 0 && i.risk!.score <= 100);
        for (const r of i.risk!.reasons)
          assert.deepEqual(Object.keys(r).sort(), ['code', 'detail']);
      }
      const table = runCli(['notifications', 'list', '--config', configFile, '--limit', '3']);
      assert.match(table.stdout, /^received\s+status\s+reason\s+risk/);
    });

    it('a notification stored while no process assessed it is picked up by the sweep', async () => {
      const fresh = fixtureHolder();
      await importHolders(s, [fresh]);
      const [id] = await storeUnassessed([
        attemptPayload(fresh.pan, {
          firstName: fresh.firstName,
          lastName: fresh.lastName,
          email: fresh.email,
        }),
      ]);
      const row = { id: id! };
      assert.equal(
        (await s.runtime.risk!.stores.risk.assessments([row!.id])).size,
        0,
        'not assessed yet',
      );
      assert.ok((await s.runtime.risk!.service.sweep()) >= 1);
      const a = await eventually(
        async () => (await s.runtime.risk!.stores.risk.assessments([row!.id])).get(row!.id),
        'swept assessment',
      );
      assert.deepEqual([a.level, a.reasons], ['low', []]);
    });

    it('attempts queued together are assessed as if one after another (shared card or email, in chains)', async () => {
      const card = fixtureHolder();
      const ring = [fixtureHolder(), fixtureHolder(), fixtureHolder()];
      await importHolders(s, [card, ...ring]);
      // Stored while nothing assesses them, then queued at once by the sweep: one batch's worth.
      const payloads: Record<string, unknown>[] = [];
      // The fourth attempt on the card also uses the ring's email: it waits behind the card's
      // first three, and the ring's attempts must wait behind it.
      for (let i = 0; i < 4; i++)
        payloads.push(
          attemptPayload(card.pan, {
            firstName: 'Eve',
            lastName: `Mallory${i}`,
            email: i === 3 ? 'batch.collector@example.net' : `eve.batch${i}@example.net`,
          }),
        );
      for (const c of ring)
        payloads.push(
          attemptPayload(c.pan, {
            firstName: c.firstName,
            lastName: c.lastName,
            email: 'batch.collector@example.net',
          }),
        );
      const ids = await storeUnassessed(payloads);
      assert.ok((await s.runtime.risk!.service.sweep()) >= ids.length);
      await s.runtime.risk!.service.idle();
      const got = await s.runtime.risk!.stores.risk.assessments(ids);
      assert.equal(got.size, ids.length);
      assert.deepEqual(
        got.get(ids[3]!)!.reasons.find((r) => r.code === 'MANY_ENROLLERS'),
        { code: 'MANY_ENROLLERS', detail: 'enrollers=4 limit=1' },
        'the fourth attempt on the card sees the three before it',
      );
      assert.deepEqual(
        got.get(ids[6]!)!.reasons.find((r) => r.code === 'ENROLLER_RING'),
        { code: 'ENROLLER_RING', detail: 'cards=4 via=email windowDays=30' },
        'the last card with that email sees the three cards before it',
      );
    });

    it('no personal data in any log line', () => {
      assertNoPersonalData(capturedLogs.join('\n'));
    });
  });
}

describe('risk assessment with the bank directory API', () => {
  let db: TestDatabase;
  let s: TestServer;
  let directory: Server;
  const held: ServerResponse[] = [];
  let hold = true;

  before(async () => {
    directory = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        if (hold) held.push(res);
        else {
          res.writeHead(404);
          res.end();
        }
      });
    });
    await new Promise<void>((r) => directory.listen(0, '127.0.0.1', r));
    const port = (directory.address() as { port: number }).port;
    db = await (await dialects())[0]!.create();
    s = await startTestServer(await testPki(), {
      storageUrl: db.url,
      extra: {
        directory: {
          type: 'http',
          url: `http://127.0.0.1:${port}/lookup`,
          timeoutMs: 400,
          cacheSeconds: 0,
        },
        risk: { defaultCountry: 'GB' },
      },
    });
  });
  after(async () => {
    for (const r of held) r.destroy();
    await s.close();
    directory.closeAllConnections();
    await new Promise((r) => directory.close(r));
    await db.drop();
  });

  it('Visa has its 200 while the directory has not answered; a directory that does not answer in time is a reason, not a failure', async () => {
    const res = await s.post({
      encryptedData: await s.encode(
        attemptPayload(testPan(88_001), { firstName: 'Ann', lastName: 'Other' }),
      ),
    });
    assert.equal(res.status, 200);
    const [row] = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 });
    await eventually(async () => (held.length > 0 ? true : undefined), 'directory call');
    assert.equal(
      (await s.runtime.risk!.stores.risk.assessments([row!.id])).size,
      0,
      'assessment still waiting on the directory after the 200',
    );
    const a = await eventually(
      async () => (await s.runtime.risk!.stores.risk.assessments([row!.id])).get(row!.id),
      'assessment',
    );
    assert.equal(a.reasons[0]?.code, 'DIRECTORY_UNAVAILABLE');
    assert.match(a.reasons[0]!.detail, /^cause=timeout elapsedMs=\d+$/);

    hold = false;
    const res2 = await s.post({
      encryptedData: await s.encode(
        attemptPayload(testPan(88_002), { firstName: 'Ann', lastName: 'Other' }),
      ),
    });
    assert.equal(res2.status, 200);
    const [row2] = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 });
    const b = await eventually(
      async () => (await s.runtime.risk!.stores.risk.assessments([row2!.id])).get(row2!.id),
      'assessment',
    );
    assert.deepEqual(codes(b), ['CARD_UNKNOWN']);
  });
});
