import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import type { DecryptionKey } from '../../src/jose/decryption-key.js';
import { soleIssuerKeys } from '../../src/keys/load-secrets.js';
import { signAsVisa } from '../../src/visa/visa-encoder.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { buildJwe, headerBytes, type JweBuild } from '../support/jose-token-builders.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { type TestPki, testPki } from '../support/test-pki.js';

// Visa signs, so a JWE whose key management is not on the allow-list is kept, quarantined as
// JWE_ALG_NOT_ALLOWED, and answered 400. For RSA1_5 (RSAES-PKCS1-v1_5, RFC 7518 §4.2) the
// refusal must come from the header alone, before the private key is used: every RSA
// operation on an attacker's PKCS#1 v1.5 ciphertext is a Bleichenbacher oracle query, whatever
// answer is given afterwards (RFC 7516 §11.5). A check that let RSA1_5 through would still end
// in a 400 (the OAEP step fails, so GCM fails), which is why the reason and the key's use are
// asserted here, not the status alone.

/** A decryption key that counts its RSA operations and otherwise is the key it wraps. */
function countingKey(inner: DecryptionKey): DecryptionKey & { calls: number } {
  const spy = {
    location: inner.location,
    calls: 0,
    unwrapCek(encryptedKey: Buffer) {
      spy.calls++;
      return inner.unwrapCek(encryptedKey);
    },
  };
  return spy;
}

const dedup = (encryptedData: string) =>
  createHash('sha256').update(encryptedData).digest('base64url');

describe('JWE key management: RSA1_5 refused on its header, the private key untouched', () => {
  let pki: TestPki;
  let db: TestDatabase;
  let s: TestServer;
  let key: ReturnType<typeof countingKey>;

  before(async () => {
    pki = await testPki();
    db = await sqliteDialect.create();
    s = await startTestServer(pki, { storageUrl: db.url });
    // The pipeline reads its keys from this map at each request: the spy stands in the real
    // key's place, so whatever the pipeline does with the key goes through it.
    const keys = soleIssuerKeys(s.runtime.secrets).decryptionKeys;
    key = countingKey(keys.get(pki.issuerKid)!);
    keys.set(pki.issuerKid, key);
  });
  after(async () => {
    await s?.close();
    await db?.drop();
  });

  /**
   * A JWE built by hand (jose v6 has no RSA1_5 to encrypt with) with `alg` both claimed in the
   * protected header and applied to the content key, then signed by Visa as the encoder does.
   */
  const visaMessage = (alg: JweBuild['alg'], enc: 'A256GCM' | 'A128GCM') =>
    signAsVisa(
      buildJwe(
        headerBytes(
          { alg, enc, kid: pki.issuerKid, typ: 'JOSE', iat: Math.floor(Date.now() / 1000) },
          'json',
        ),
        {
          alg,
          enc,
          to: pki.issuerPublicKey,
          plaintext: Buffer.from(JSON.stringify(enrollmentPayload())),
        },
      ),
      { signingKey: pki.visaSigningKey, signingKid: pki.visaKid },
    );

  const storedRow = async (encryptedData: string) => {
    const found = await s.runtime.store.findByDedupKey(dedup(encryptedData));
    assert.ok(found, 'signed by Visa: kept');
    const row = (await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 100 })).find(
      (r) => r.id === found.id,
    );
    assert.ok(row);
    return row;
  };

  for (const enc of ['A256GCM', 'A128GCM'] as const) {
    it(`the same builder with RSA-OAEP-256 and ${enc}: accepted, the key used once (the spy is in the path)`, async () => {
      const encryptedData = await visaMessage('RSA-OAEP-256', enc);
      const before = key.calls;
      const res = await s.post({ encryptedData });
      assert.equal(res.status, 200);
      assert.equal(key.calls - before, 1, 'one RSA operation for one message');
      const row = await storedRow(encryptedData);
      assert.deepEqual([row.status, row.reason], ['accepted', null]);
    });

    it(`RSA1_5 with ${enc}, signed by Visa: 400, quarantined as JWE_ALG_NOT_ALLOWED, no RSA operation`, async () => {
      const encryptedData = await visaMessage('RSA1_5', enc);
      const before = key.calls;
      const res = await s.post({ encryptedData });
      assert.equal(key.calls - before, 0, 'the private key is never used for RSA1_5');
      assert.equal(res.status, 400);
      assert.equal(res.body, '');
      const row = await storedRow(encryptedData);
      assert.deepEqual(
        [row.status, row.reason, row.reasonFields],
        ['quarantined', 'JWE_ALG_NOT_ALLOWED', null],
      );
    });
  }
});
