import assert from 'node:assert/strict';
import { constants, createHmac, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CompactEncrypt, CompactSign } from 'jose';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { signAsVisa } from '../../src/visa/visa-encoder.js';
import { type Dialect, dialects, sqliteDialect, type TestDatabase } from '../support/databases.js';
import {
  assertNoPersonalData,
  enrollmentPayload,
  registerSensitive,
} from '../support/personal-data.js';
import { httpRequest, rawExchange } from '../support/raw-http.js';
import {
  capturedLogs,
  type HarnessOptions,
  NOTIFICATION_PATH,
  startTestServer,
  type TestServer,
} from '../support/server-harness.js';
import { softHsmMissing, testToken } from '../support/softhsm.js';
import { testPki } from '../support/test-pki.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

// Every dialect with the keys in files; and SQLite once more with the issuer's keys in a SoftHSM2
// token (rsa-raw), so that every contract case that decrypts runs through the token too.
const variants: { dialect: Dialect; keys: Pick<HarnessOptions, 'hsm'>; label: string }[] = (
  await dialects()
).map((dialect) => ({ dialect, keys: {}, label: dialect.name }));
if (!softHsmMissing()) {
  const token = testToken();
  const pki = await testPki();
  token.importKey(pki.issuerKid, createPrivateKey(readFileSync(pki.files.issuerKey)));
  token.importKey(pki.issuerKid2, createPrivateKey(readFileSync(pki.files.issuerKey2)));
  variants.push({
    dialect: sqliteDialect,
    keys: { hsm: { token, kids: ['first', 'second'] } },
    label: 'sqlite, keys in a SoftHSM2 token',
  });
}

for (const { dialect, keys, label } of variants) {
  describe(`HTTP contract on ${label}`, () => {
    let db: TestDatabase;
    let s: TestServer;

    before(async () => {
      db = await dialect.create();
      s = await startTestServer(await testPki(), {
        ...keys,
        storageUrl: db.url,
        tokenRequestorIds: ['40010030273', '40010030274'],
      });
    });
    after(async () => {
      await s.close();
      await db.drop();
    });

    const stored = async (status?: 'accepted' | 'quarantined') =>
      s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1000, ...(status ? { status } : {}) });

    it('200 with an empty body for an authentic, valid notification, stored with the card protected', async () => {
      const payload = enrollmentPayload();
      const res = await s.post({ encryptedData: await s.encode(payload) });
      assert.equal(res.status, 200);
      assert.equal(res.body, '');
      const [row] = await stored();
      const pan = (payload.enrollment as { paymentInstrument: { accountNumber: string } })
        .paymentInstrument.accountNumber;
      assert.equal(row?.status, 'accepted');
      assert.equal(row?.panLast4, pan.slice(-4));
      assert.equal(row?.panBin, pan.slice(0, 6));
      assert.equal(row?.panLuhnValid, true);
      assert.equal(row?.firstName, (payload.clientInformation as { firstName: string }).firstName);
      assert.ok(
        !JSON.stringify(row).includes(pan),
        'listing must not contain the full card number',
      );
    });

    it('answers a client that shuts down its sending side right after the request (Connection: close, then FIN)', async () => {
      // Storage answers after the client's FIN has arrived (always so on PostgreSQL): the 200
      // must still be written before the connection closes.
      const body = JSON.stringify({ encryptedData: await s.encode(enrollmentPayload()) });
      const req = httpRequest({
        path: `${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT`,
        headers: { 'content-type': 'application/json' },
        body,
      });
      const answer = await rawExchange(s.url, [req], { waitMs: 5000 });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, '');
    });

    it("Visa's retry of the same encryptedData: 200 again, stored once", async () => {
      const body = { encryptedData: await s.encode(enrollmentPayload()) };
      const before = (await stored()).length;
      assert.equal((await s.post(body)).status, 200);
      assert.equal((await s.post(body)).status, 200);
      const [a, b] = await Promise.all([s.post(body), s.post(body)]);
      assert.deepEqual([a.status, b.status], [200, 200]);
      const rows = await stored();
      assert.equal(rows.length, before + 1);
      assert.equal(rows[0]?.visaAttempts, 4);
    });

    it('A128GCM content encryption is accepted too', async () => {
      const res = await s.post({
        encryptedData: await s.encode(enrollmentPayload(), { enc: 'A128GCM' }),
      });
      assert.equal(res.status, 200);
    });

    it('other eventTypes are verified, decrypted and stored with their type', async () => {
      const res = await s.post(
        { encryptedData: await s.encode({ some: { future: 'shape' } }) },
        { query: 'eventType=CTP_ENROLLMENT_UPDATE' },
      );
      assert.equal(res.status, 200);
      assert.equal(res.body, '');
      const [row] = await stored();
      assert.equal(row?.eventType, 'CTP_ENROLLMENT_UPDATE');
      assert.equal(row?.status, 'accepted');
    });

    it('404 for a tokenRequestorID that is not 11 digits or not allowed, other paths and methods', async () => {
      const enc = { encryptedData: await s.encode(enrollmentPayload()) };
      for (const path of [
        '/vtis/v1/tokenRequestors/4001003027/cardEnrollment/notification',
        '/vtis/v1/tokenRequestors/4001003027x/cardEnrollment/notification',
        '/vtis/v1/tokenRequestors/99999999999/cardEnrollment/notification',
        '/vtis/v1/tokenRequestors/40010030273/cardEnrollment',
        '/vtis/v2/tokenRequestors/40010030273/cardEnrollment/notification',
        '/',
      ]) {
        const res = await s.post(enc, { path });
        assert.equal(res.status, 404, path);
        assert.equal(res.body, '', path);
      }
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await s.post(enc, { method });
        assert.equal(res.status, 404, method);
        assert.equal(res.body, '');
      }
      assert.equal(
        (await s.post(enc, { path: NOTIFICATION_PATH.replace('40010030273', '40010030274') }))
          .status,
        200,
      );
    });

    it('400 when eventType is missing or not [A-Z0-9_]{1,64}', async () => {
      const enc = { encryptedData: await s.encode(enrollmentPayload()) };
      for (const query of [
        '',
        'eventtype=CTP_ENROLLMENT_ATTEMPT',
        'eventType=',
        'eventType=ctp_enrollment',
        `eventType=${'A'.repeat(65)}`,
        'eventType=A-B',
        'eventType=A&eventType=B',
      ]) {
        const res = await s.post(enc, { query });
        assert.equal(res.status, 400, query);
        assert.equal(res.body, '');
      }
    });

    it('400 for bodies that are not the JSON envelope', async () => {
      const cases: [string, string | null][] = [
        ['not json', 'application/json'],
        ['[]', 'application/json'],
        ['"x"', 'application/json'],
        ['{}', 'application/json'],
        ['{"encryptedData": 7}', 'application/json'],
        ['{"encryptedData": ""}', 'application/json'],
        [JSON.stringify({ encryptedData: 'a'.repeat(7001) }), 'application/json'],
        [JSON.stringify({ encryptedData: 'x.y.z' }), 'text/plain'],
        [JSON.stringify({ encryptedData: 'x.y.z' }), null],
        ['', 'application/json'],
        [JSON.stringify({ encryptedData: 'a'.repeat(20_000) }), 'application/json'],
      ];
      for (const [body, contentType] of cases) {
        const res = await s.post(body, { contentType });
        assert.equal(res.status, 400, `${body.slice(0, 30)} / ${contentType}`);
        assert.equal(res.body, '');
      }
    });

    it('400 when encryptedData is not a compact JWS', async () => {
      for (const encryptedData of [
        'abc',
        'a.b',
        'a.b.c.d',
        '!!.??.**',
        `${Buffer.from('not json').toString('base64url')}.${b64('x')}.AAAA`,
        `${b64(['PS256'])}.${b64('x')}.AAAA`,
        'a..b',
      ]) {
        const res = await s.post({ encryptedData });
        assert.equal(res.status, 400, encryptedData);
        assert.equal(res.body, '');
      }
    });

    it('401 for alg none, HS256 keyed with the public key, RS256 when only PS256 is allowed, unknown kid, bad signature', async () => {
      const pki = await testPki();
      const jwe = await new CompactEncrypt(
        new TextEncoder().encode(JSON.stringify(enrollmentPayload())),
      )
        .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: pki.issuerKid })
        .encrypt(pki.issuerPublicKey);
      const none = `${b64({ alg: 'none', kid: pki.visaKid })}.${Buffer.from(jwe).toString('base64url')}.`;
      const hsInput = `${b64({ alg: 'HS256', kid: pki.visaKid })}.${Buffer.from(jwe).toString('base64url')}`;
      const hsKey = pki.visaPublicKey.export({ type: 'spki', format: 'pem' });
      const hs = `${hsInput}.${createHmac('sha256', hsKey).update(hsInput).digest('base64url')}`;
      const rs = await new CompactSign(new TextEncoder().encode(jwe))
        .setProtectedHeader({ alg: 'RS256', kid: pki.visaKid })
        .sign(pki.visaSigningKey);
      const unknownKid = await signAsVisa(jwe, {
        signingKey: pki.visaSigningKey,
        signingKid: 'NOT-A-KID',
      });
      const forged = await signAsVisa(jwe, {
        signingKey: pki.rogueSigningKey,
        signingKid: pki.visaKid,
      });
      const good = await signAsVisa(jwe, {
        signingKey: pki.visaSigningKey,
        signingKid: pki.visaKid,
      });
      const [h, p, sig] = good.split('.') as [string, string, string];
      const flipped = `${h}.${p}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
      const otherPayload = `${h}.${b64('tampered')}.${sig}`;
      const critInput = `${b64({ alg: 'PS256', kid: pki.visaKid, crit: ['exp'], exp: 1 })}.${Buffer.from(jwe).toString('base64url')}`;
      const critSig = sign('sha256', Buffer.from(critInput), {
        key: pki.visaSigningKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
      const crit = `${critInput}.${critSig.toString('base64url')}`;
      const before = (await stored()).length;
      for (const [name, encryptedData] of Object.entries({
        none,
        hs,
        rs,
        unknownKid,
        forged,
        flipped,
        otherPayload,
        crit,
      })) {
        const res = await s.post({ encryptedData });
        assert.equal(res.status, 401, name);
        assert.equal(res.body, '');
      }
      assert.equal((await stored()).length, before, 'unauthenticated messages are not stored');
    });

    it('400 and quarantined when signed by Visa but the JWE or payload is unusable', async () => {
      const pki = await testPki();
      const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
      const payload = enrollmentPayload();
      const jweWrongKey = await new CompactEncrypt(
        new TextEncoder().encode(JSON.stringify(payload)),
      )
        .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: pki.issuerKid })
        .encrypt(otherKey);
      const cases: Record<string, [Promise<string>, string]> = {
        notJwe: [
          s
            .encode('x')
            .then(() =>
              signAsVisa('not-a-jwe', { signingKey: pki.visaSigningKey, signingKid: pki.visaKid }),
            ),
          'JWE_MALFORMED',
        ],
        rsaOaepSha1: [s.encode(payload, { alg: 'RSA-OAEP' }), 'JWE_ALG_NOT_ALLOWED'],
        cbc: [s.encode(payload, { enc: 'A128CBC-HS256' }), 'JWE_ALG_NOT_ALLOWED'],
        zip: [
          s
            .encode(payload, { jweHeader: { zip: 'DEF' } })
            .catch(() =>
              signAsVisa(
                `${b64({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: pki.issuerKid, zip: 'DEF' })}.AAAA.AAAA.AAAA.AAAA`,
                { signingKey: pki.visaSigningKey, signingKid: pki.visaKid },
              ),
            ),
          'JWE_ALG_NOT_ALLOWED',
        ],
        wrongKey: [
          signAsVisa(jweWrongKey, { signingKey: pki.visaSigningKey, signingKid: pki.visaKid }),
          'JWE_DECRYPTION_FAILED',
        ],
        notJson: [s.encode('{"clientInformation": '), 'PAYLOAD_NOT_JSON'],
        shortName: [
          s.encode(enrollmentPayload({ clientInformation: { firstName: 'J' } })),
          'PAYLOAD_INVALID',
        ],
        badPhone: [
          s.encode(enrollmentPayload({ clientInformation: { phoneNumber: '555 0100 ext 4' } })),
          'PAYLOAD_INVALID',
        ],
        badEmail: [
          s.encode(enrollmentPayload({ clientInformation: { contactEmail: 'not-an-email' } })),
          'PAYLOAD_INVALID',
        ],
        longEmail: [
          s.encode(
            enrollmentPayload({
              clientInformation: { contactEmail: `${'a'.repeat(40)}@example.org` },
            }),
          ),
          'PAYLOAD_INVALID',
        ],
        shortPan: [
          s.encode(enrollmentPayload({ accountNumber: '41111111111' })),
          'PAYLOAD_INVALID',
        ],
        vWithoutInstrument: [
          s.encode({ clientInformation: {}, enrollment: { tsp: 'V' } }),
          'PAYLOAD_INVALID',
        ],
        noEnrollment: [s.encode({ clientInformation: {} }), 'PAYLOAD_INVALID'],
      };
      for (const [name, [tokenPromise, reason]] of Object.entries(cases)) {
        const encryptedData = await tokenPromise;
        const res = await s.post({ encryptedData });
        assert.equal(res.status, 400, name);
        assert.equal(res.body, '');
        const [row] = await stored();
        assert.equal(row?.status, 'quarantined', name);
        assert.equal(row?.reason, reason, name);
      }
      const [row] = await stored('quarantined');
      assert.deepEqual(row?.reasonFields, ['/enrollment']);
      const invalid = (await stored('quarantined')).find(
        (r) =>
          r.reason === 'PAYLOAD_INVALID' &&
          r.reasonFields?.includes('/clientInformation/firstName'),
      );
      assert.ok(invalid, 'field paths of the broken rule are kept');
    });

    it('a Luhn failure is a recorded flag, other TSPs need no paymentInstrument, extra fields are kept', async () => {
      assert.equal(
        (
          await s.post({
            encryptedData: await s.encode(enrollmentPayload({ accountNumber: '4111111111111112' })),
          })
        ).status,
        200,
      );
      assert.equal((await stored())[0]?.panLuhnValid, false);
      registerSensitive('Zorro');
      const res = await s.post({
        encryptedData: await s.encode({
          clientInformation: { firstName: 'Zorro', extra: 1 },
          enrollment: { tsp: 'M1' },
          newField: true,
        }),
      });
      assert.equal(res.status, 200);
      const [row] = await stored();
      assert.equal(row?.tsp, 'M1');
      assert.equal(row?.panLast4, null);
    });

    it('500 and quarantined for an unknown JWE kid; the retry passes once the key is installed', async () => {
      const encryptedData = await s.encode(enrollmentPayload(), { encryptTo: 'second' });
      const res = await s.post({ encryptedData });
      assert.equal(res.status, 500);
      assert.equal(res.body, '');
      const [row] = await stored();
      assert.equal(row?.status, 'quarantined');
      assert.equal(row?.reason, 'JWE_KID_UNKNOWN');
      assert.equal((await s.post({ encryptedData })).status, 500, 'still unknown on retry');

      const rotated = await startTestServer(await testPki(), {
        ...keys,
        storageUrl: db.url,
        decryptionKids: ['first', 'second'],
      });
      try {
        assert.equal((await rotated.post({ encryptedData })).status, 200);
        const rows = await rotated.runtime.store.list({ scope: ALL_ISSUERS, limit: 1000 });
        const same = rows.filter((r) => r.id === row?.id);
        assert.equal(same.length, 1);
        assert.equal(same[0]?.status, 'accepted', 'promoted in place');
        assert.equal(same[0]?.reason, null);
        assert.equal(same[0]?.visaAttempts, 3);
      } finally {
        await rotated.close();
      }
    });

    it('quarantine reprocess accepts what now decrypts and leaves the rest', async () => {
      const encryptedData = await s.encode(enrollmentPayload(), { encryptTo: 'second' });
      assert.equal((await s.post({ encryptedData })).status, 500);
      const rotated = await startTestServer(await testPki(), {
        ...keys,
        storageUrl: db.url,
        decryptionKids: ['first', 'second'],
      });
      try {
        const outcomes = [];
        for (const q of await rotated.runtime.store.listQuarantined(ALL_ISSUERS, 1000))
          outcomes.push((await rotated.runtime.pipelines.reprocess(q)).kind);
        assert.ok(outcomes.includes('accepted'));
        assert.ok(outcomes.includes('quarantined'), 'undecryptable ones stay quarantined');
        const rows = await rotated.runtime.store.list({
          scope: ALL_ISSUERS,
          limit: 1000,
          status: 'quarantined',
        });
        assert.ok(rows.every((r) => r.reason !== 'JWE_KID_UNKNOWN'));
      } finally {
        await rotated.close();
      }
    });

    it('500 when storage is unavailable, never a 200 without a row', async () => {
      const other = await dialect.create();
      const t = await startTestServer(await testPki(), {
        ...keys,
        storageUrl: other.url,
      });
      try {
        await t.runtime.store.close();
        const res = await t.post({ encryptedData: await t.encode(enrollmentPayload()) });
        assert.equal(res.status, 500);
        assert.equal(res.body, '');
      } finally {
        await t.app.close();
        await other.drop();
      }
    });

    it('survives a restart: what was acknowledged is still there', async () => {
      const other = await dialect.create();
      const payload = enrollmentPayload();
      let t = await startTestServer(await testPki(), {
        ...keys,
        storageUrl: other.url,
      });
      const enc = { encryptedData: await t.encode(payload) };
      assert.equal((await t.post(enc)).status, 200);
      await t.close();
      t = await startTestServer(await testPki(), {
        ...keys,
        storageUrl: other.url,
      });
      try {
        const rows = await t.runtime.store.list({ scope: ALL_ISSUERS });
        assert.equal(rows.length, 1);
        assert.equal((await t.post(enc)).status, 200);
        assert.equal(
          (await t.runtime.store.list({ scope: ALL_ISSUERS })).length,
          1,
          'retry after restart still deduplicated',
        );
      } finally {
        await t.close();
        await other.drop();
      }
    });

    it('writes one structured line per request, with no personal data', async () => {
      const n = s.logs.length;
      await s.post({ encryptedData: await s.encode(enrollmentPayload()) });
      const lines = s.logs.slice(n).map((l) => JSON.parse(l) as Record<string, unknown>);
      const requestLines = lines.filter((l) => l.msg === 'visa request');
      assert.equal(requestLines.length, 1);
      const line = requestLines[0]!;
      assert.equal(line.status, 200);
      assert.equal(line.outcome, 'accepted');
      assert.equal(line.tokenRequestorId, '40010030273');
      assert.equal(line.eventType, 'CTP_ENROLLMENT_ATTEMPT');
      assert.equal(typeof line.ms, 'number');
      assertNoPersonalData(capturedLogs.join(''));
    });
  });
}
