import assert from 'node:assert/strict';
import {
  constants,
  type KeyObject,
  publicEncrypt,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { HsmToken } from '../../src/hsm/hsm-token.js';
import { pkcs11js, tokenCodeOf } from '../../src/hsm/pkcs11-binding.js';
import type { TokenDecryptionKey } from '../../src/hsm/token-decryption-key.js';
import { loadSecrets, soleIssuerKeys } from '../../src/keys/load-secrets.js';
import { encodeVisaMessage } from '../../src/visa/visa-encoder.js';
import { runCli } from '../support/cli-process.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import {
  NSS_MODULE,
  NSS_TOKEN,
  type NssToken,
  nssMissing,
  nssToken,
} from '../support/nss-softoken.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { writeServerConfig } from '../support/process-config.js';
import { configFor, startTestServer, type TestServer } from '../support/server-harness.js';
import { processTempDir } from '../support/temp-dir.js';
import { type TestPki, testPki } from '../support/test-pki.js';

/*
 * The native mechanism, rsa-oaep-sha256 (CKM_RSA_PKCS_OAEP with SHA-256 and MGF1-SHA-256, the
 * whole RSAES-OAEP decryption in the token), in NSS's software token: the key made by the key
 * ceremony (`keys generate --hsm`), the start-up self-test, `auto`, and a Visa notification
 * received with it.
 */

const KID = 'issuer-enc-nss';
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;
const missing = nssMissing();

describe('NSS softoken: the key ceremony and rsa-oaep-sha256 in the token', {
  skip: missing,
}, () => {
  let pki: TestPki;
  let nss: NssToken;
  let db: TestDatabase;
  let certPath: string;
  let certificateKey: KeyObject;
  let ceremony: { status: number | null; stdout: string; stderr: string };

  /** Config with the token key (and its certificate once the ceremony wrote it). */
  const extra = (mechanism: string, withCertificate: boolean) => ({
    hsm: nss.hsmConfig(),
    keys: {
      decryption: [
        {
          kid: KID,
          hsm: { label: KID, mechanism },
          ...(withCertificate ? { certificate: certPath } : {}),
        },
      ],
      verification: [{ kid: pki.visaKid, certificate: pki.files.visaCert }],
    },
  });

  before(async () => {
    pki = await testPki();
    nss = nssToken();
    db = await sqliteDialect.create();
    const out = processTempDir('ctp-nss-out-');
    certPath = join(out, `${KID}.cert.pem`);
    // The config names the key before it exists: only `serve` opens it.
    const { file } = writeServerConfig(pki, {
      storageUrl: db.url,
      extra: extra('rsa-oaep-sha256', false),
    });
    ceremony = runCli([
      'keys',
      'generate',
      '--hsm',
      '--config',
      file,
      '--kid',
      KID,
      '--out',
      out,
      '--mechanism',
      'rsa-oaep-sha256',
    ]);
    if (existsSync(certPath))
      certificateKey = new X509Certificate(readFileSync(certPath)).publicKey;
  });
  after(async () => {
    await db?.drop();
  });

  it('makes the key pair in the token and only its certificate in files', () => {
    assert.equal(ceremony.status, 0, ceremony.stderr);
    assert.match(ceremony.stdout, new RegExp(`token "${NSS_TOKEN}", label "${KID}", 2048 bits`));
    // NSS has no CKA_ALLOWED_MECHANISMS (it answers CKR_GENERAL_ERROR to it): the ceremony makes
    // the key without it and says so.
    assert.match(ceremony.stdout, /the token has no CKA_ALLOWED_MECHANISMS: restrict it by policy/);
    assert.match(ceremony.stdout, /signing turned off/);
    assert.deepEqual(readdirSync(dirname(certPath)), [`${KID}.cert.pem`]);
    assert.equal(certificateKey.asymmetricKeyDetails?.modulusLength, 2048);
  });

  it('reads back sensitive, never extractable, not signing, and its private parts refused', () => {
    const token = HsmToken.open({
      module: NSS_MODULE,
      token: NSS_TOKEN,
      pin: nss.pin,
      pinField: '/hsm/pin/file',
      libraryParameters: nss.hsmConfig().libraryParameters as string,
    });
    try {
      const info = token.key(KID);
      assert.ok(info);
      assert.deepEqual(
        { ...info, publicKey: undefined },
        {
          label: KID,
          publicKey: undefined,
          modulusBytes: 256,
          isPrivate: true,
          sensitive: true,
          extractable: false,
          decrypt: true,
          sign: false,
        },
      );
      const lib = pkcs11js();
      token.withSession((p, s) => {
        p.C_FindObjectsInit(s, [
          { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
          { type: lib.CKA_LABEL, value: KID },
        ]);
        const [h] = p.C_FindObjects(s, 1);
        p.C_FindObjectsFinal(s);
        assert.ok(h);
        const [always, never] = p.C_GetAttributeValue(s, h, [
          { type: lib.CKA_ALWAYS_SENSITIVE },
          { type: lib.CKA_NEVER_EXTRACTABLE },
        ]);
        assert.deepEqual([always?.value, never?.value], [Buffer.from([1]), Buffer.from([1])]);
        for (const type of [lib.CKA_PRIVATE_EXPONENT, lib.CKA_PRIME_1])
          assert.throws(
            () => p.C_GetAttributeValue(s, h, [{ type }]),
            (e) => tokenCodeOf(e) === 'CKR_ATTRIBUTE_SENSITIVE',
          );
        // Nothing restricts the mechanisms this key may use (see above).
        assert.throws(
          () => p.C_GetAttributeValue(s, h, [{ type: lib.CKA_ALLOWED_MECHANISMS }]),
          (e) => tokenCodeOf(e) === 'CKR_ATTRIBUTE_TYPE_INVALID',
        );
      });
    } finally {
      token.close();
    }
  });

  it('passes the self-test with rsa-oaep-sha256, and auto settles on it', () => {
    for (const [mechanism, resolved] of [
      ['rsa-oaep-sha256', 'rsa-oaep-sha256'],
      ['auto', 'rsa-oaep-sha256'],
      // No CKA_ALLOWED_MECHANISMS in NSS: the raw RSA operation is not refused either.
      ['rsa-raw', 'rsa-raw'],
    ] as const) {
      const secrets = loadSecrets(
        configFor(pki, { storageUrl: db.url, extra: extra(mechanism, true) }),
      );
      try {
        const key = soleIssuerKeys(secrets).decryptionKeys.get(KID) as TokenDecryptionKey;
        assert.equal(key.location, 'hsm');
        assert.equal(key.mechanism, resolved, mechanism);
      } finally {
        secrets.close();
      }
    }
  });

  describe('serving with the key in the token', () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(pki, { storageUrl: db.url, extra: extra('rsa-oaep-sha256', true) });
    });
    after(async () => {
      await s?.close();
    });

    it('accepts and stores a notification encrypted to the certificate the ceremony wrote', async () => {
      const payload = enrollmentPayload();
      const encryptedData = await encodeVisaMessage(payload, {
        signingKey: pki.visaSigningKey,
        signingKid: pki.visaKid,
        encryptionKey: certificateKey,
        encryptionKid: KID,
      });
      const res = await s.post({ encryptedData });
      assert.equal(res.status, 200, res.body);
      const rows = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 10 });
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.status, 'accepted');
      const pan = (payload.enrollment as { paymentInstrument: { accountNumber: string } })
        .paymentInstrument.accountNumber;
      assert.equal(rows[0]?.panLast4, pan.slice(-4));
      assert.equal(s.runtime.secrets.token?.healthy, true);
    });

    it('answers every bad Encrypted Key with the one failure shape, the token staying healthy', async () => {
      const key = soleIssuerKeys(s.runtime.secrets).decryptionKeys.get(KID) as TokenDecryptionKey;
      assert.equal(key.mechanism, 'rsa-oaep-sha256');
      const value = randomBytes(32);
      const good = publicEncrypt({ key: certificateKey, ...OAEP }, value);
      assert.deepEqual(await key.unwrapCek(good), value);
      const n = Buffer.from(certificateKey.export({ format: 'jwk' }).n as string, 'base64url');
      const flipped = Buffer.from(good);
      flipped[100] = (flipped[100] as number) ^ 0x10;
      const bad = [
        flipped,
        publicEncrypt({ key: certificateKey, ...OAEP, oaepLabel: Buffer.from('x') }, value),
        publicEncrypt({ key: certificateKey, ...OAEP, oaepHash: 'sha1' }, value),
        publicEncrypt({ key: certificateKey, padding: constants.RSA_PKCS1_PADDING }, value),
        Buffer.alloc(256),
        n,
        Buffer.alloc(256, 0xff),
        good.subarray(1),
      ];
      for (const [i, c] of bad.entries()) assert.equal(await key.unwrapCek(c), undefined, `#${i}`);
      assert.equal(s.runtime.secrets.token?.healthy, true);
      assert.equal(s.runtime.secrets.token?.lastFault, '');
    });
  });
});
