import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import type { Config } from '../../src/config/config-schema.js';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { HsmToken } from '../../src/hsm/hsm-token.js';
import { loadSecrets, soleIssuerKeys } from '../../src/keys/load-secrets.js';
import { processOutput, runCli } from '../support/cli-process.js';
import { configFor } from '../support/server-harness.js';
import { softHsmMissing, testToken } from '../support/softhsm.js';
import { processTempDir } from '../support/temp-dir.js';
import { testPki } from '../support/test-pki.js';

// The key ceremony and the start-up self-test against a real SoftHSM2 token: what the token
// says about the keys (read back, and read by opensc's pkcs11-tool as a second reader), and
// what stops the process, naming the field and never the PIN.

const skip = softHsmMissing();

describe('keys in a PKCS#11 token (SoftHSM2)', { skip }, async () => {
  if (skip) return;
  const token = testToken();
  const pki = await testPki();
  const work = processTempDir('ctp-ceremony-');
  const env = { SOFTHSM2_CONF: token.conf };

  /** The harness config with the token block, as a file for the CLI. */
  const configFile = (adjust: (c: Record<string, unknown>) => void = () => {}): string => {
    const c = JSON.parse(JSON.stringify(configFor(pki, { storageUrl: 'sqlite::memory:' })));
    c.hsm = token.hsmConfig();
    adjust(c);
    const file = join(work, `config-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(file, JSON.stringify(c));
    return file;
  };
  const withToken = (adjust: (c: Record<string, unknown>) => void): Config => {
    const c = JSON.parse(JSON.stringify(configFor(pki, { storageUrl: 'sqlite::memory:' })));
    c.hsm = token.hsmConfig();
    adjust(c);
    return parseConfig(c, work);
  };
  const startError = (config: Config): ConfigError => {
    try {
      loadSecrets(config).close();
    } catch (e) {
      assert.ok(e instanceof ConfigError, `a ConfigError, not ${String(e)}`);
      assert.ok(!e.message.includes(token.pin), 'the PIN is never in a message');
      return e;
    }
    assert.fail('the process must not start');
  };

  await it('keys generate --hsm makes a sensitive, non-extractable key and writes only the certificate and CSR', async () => {
    const out = join(work, 'ceremony');
    const r = runCli(
      ['keys', 'generate', '--hsm', '--config', configFile(), '--kid', 'issuer-enc-2027'].concat([
        '--out',
        out,
        '--csr',
        '--mechanism',
        'rsa-raw',
        '--bits',
        '3072',
      ]),
      env,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes(token.pin) && !r.stderr.includes(token.pin));
    const files = execFileSync('ls', [out], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(files, ['issuer-enc-2027.cert.pem', 'issuer-enc-2027.csr.pem']);

    // Read back through the service's own token code…
    const t = HsmToken.open({ ...tokenOptions(), sessions: 1 });
    try {
      const info = t.key('issuer-enc-2027');
      assert.ok(info);
      assert.equal(info.sensitive, true, 'CKA_SENSITIVE');
      assert.equal(info.extractable, false, 'CKA_EXTRACTABLE');
      assert.equal(info.isPrivate, true, 'CKA_PRIVATE');
      assert.equal(info.decrypt, true, 'CKA_DECRYPT');
      assert.equal(info.sign, false, 'signing turned off after the self-signature');
      assert.equal(info.modulusBytes, 384);
      // …and the certificate and the CSR carry that key, signed by it.
      const cert = new X509Certificate(readFileSync(join(out, 'issuer-enc-2027.cert.pem')));
      assert.equal(
        cert.publicKey.export({ format: 'jwk' }).n,
        info.publicKey.export({ format: 'jwk' }).n,
      );
      assert.ok(cert.verify(cert.publicKey), 'self-signed by the token key');
      const csr = new x509.Pkcs10CertificateRequest(
        readFileSync(join(out, 'issuer-enc-2027.csr.pem'), 'utf8'),
      );
      assert.ok(await csr.verify(), 'the CSR is signed by the key it names');
      assert.equal(csr.subject, 'CN=issuer-enc-2027, O=ctp-notify issuer encryption key');
    } finally {
      t.close();
    }
    // A second reader, opensc's pkcs11-tool, sees the same policy.
    const listing = pkcs11Tool(['--list-objects', '--type', 'privkey']);
    const entry = listing.slice(listing.indexOf('label:      issuer-enc-2027'));
    assert.match(entry, /never extractable/);
    assert.match(entry, /always sensitive/);
    assert.match(entry, /Allowed mechanisms: RSA-X-509/);

    // A label that exists is never replaced.
    const again = runCli(
      ['keys', 'generate', '--hsm', '--config', configFile(), '--kid', 'issuer-enc-2027'].concat([
        '--out',
        join(work, 'again'),
      ]),
      env,
    );
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already has a private key labelled "issuer-enc-2027"/);
  });

  await it('starts with the generated key: the self-test decrypts, and the certificate must match', () => {
    const cert = join(work, 'ceremony', 'issuer-enc-2027.cert.pem');
    const config = withToken((c) => {
      (c.keys as { decryption: unknown[] }).decryption.push({
        kid: 'issuer-enc-2027',
        hsm: { label: 'issuer-enc-2027', mechanism: 'rsa-raw' },
        certificate: cert,
      });
    });
    const secrets = loadSecrets(config);
    try {
      assert.equal(soleIssuerKeys(secrets).decryptionKeys.get('issuer-enc-2027')?.location, 'hsm');
      assert.equal(
        soleIssuerKeys(secrets).decryptionKeys.get(pki.issuerKid)?.location,
        'file',
        'mixed list',
      );
      assert.ok(soleIssuerKeys(secrets).decryptionCertificateExpiry.has('issuer-enc-2027'));
    } finally {
      secrets.close();
    }
    const mismatch = startError(
      withToken((c) => {
        (c.keys as { decryption: unknown[] }).decryption = [
          {
            kid: 'k',
            hsm: { label: 'issuer-enc-2027', mechanism: 'rsa-raw' },
            certificate: pki.files.issuerCert,
          },
        ];
      }),
    );
    assert.equal(mismatch.field, '/keys/decryption/0/certificate');
  });

  await it('stops at start on a wrong PIN, a missing label, a missing module or token, an extractable key, and OAEP-SHA-256 on SoftHSM', () => {
    const tokenKey =
      (extra: Record<string, unknown> = {}) =>
      (c: Record<string, unknown>) => {
        (c.keys as { decryption: unknown[] }).decryption = [
          { kid: 'k', hsm: { label: 'issuer-enc-2027', mechanism: 'rsa-raw', ...extra } },
        ];
      };
    const wrongPin = join(work, 'wrong.pin');
    writeFileSync(wrongPin, '000000', { mode: 0o600 });
    const cases: [string, (c: Record<string, unknown>) => void, string, RegExp][] = [
      [
        'wrong PIN',
        (c) => {
          tokenKey()(c);
          c.hsm = token.hsmConfig({ pin: { file: wrongPin } });
        },
        '/hsm/pin/file',
        /refused the PIN \(CKR_PIN_INCORRECT\)/,
      ],
      [
        'missing label',
        tokenKey({ label: 'no-such-key' }),
        '/keys/decryption/0/hsm/label',
        /no private key labelled "no-such-key" in token "ctp-issuer"/,
      ],
      [
        'missing module',
        (c) => {
          tokenKey()(c);
          c.hsm = token.hsmConfig({ module: join(work, 'no-such-module.so') });
        },
        '/hsm/module',
        /cannot load the PKCS#11 module/,
      ],
      [
        'missing token',
        (c) => {
          tokenKey()(c);
          c.hsm = token.hsmConfig({ token: 'other-token' });
        },
        '/hsm/token',
        /no token labelled "other-token" \(tokens present: "ctp-issuer"\)/,
      ],
      [
        'OAEP-SHA-256 refused by SoftHSM 2.6',
        tokenKey({ mechanism: 'rsa-oaep-sha256' }),
        '/keys/decryption/0/hsm/mechanism',
        // The generated key allows only CKM_RSA_X_509.
        /rsa-oaep-sha256 \(CKR_MECHANISM_INVALID\).*needs "rsa-raw"/,
      ],
    ];
    for (const [what, adjust, field, message] of cases) {
      const e = startError(withToken(adjust));
      assert.equal(e.field, field, what);
      assert.match(e.message, message, what);
    }
    // An extractable key is refused even though it would work.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    token.importKey('extractable-key', privateKey, { extractable: true });
    const e = startError(withToken(tokenKey({ label: 'extractable-key' })));
    assert.equal(e.field, '/keys/decryption/0/hsm/label');
    assert.match(e.message, /CKA_EXTRACTABLE is true/);
    // An unrestricted key: SoftHSM 2.6.1 itself refuses OAEP's SHA-256 parameters.
    token.importKey('unrestricted', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const oaep = startError(
      withToken(tokenKey({ label: 'unrestricted', mechanism: 'rsa-oaep-sha256' })),
    );
    assert.equal(oaep.field, '/keys/decryption/0/hsm/mechanism');
    assert.match(oaep.message, /rsa-oaep-sha256 \(CKR_ARGUMENTS_BAD\)/);
    // `auto` settles on what SoftHSM can do.
    const secrets = loadSecrets(withToken(tokenKey({ mechanism: 'auto' })));
    try {
      assert.equal(
        (soleIssuerKeys(secrets).decryptionKeys.get('k') as { mechanism?: string }).mechanism,
        'rsa-raw',
      );
    } finally {
      secrets.close();
    }
    // The serve command says the same and exits 2 (invalid configuration), without the PIN.
    const r = runCli(
      [
        'serve',
        '--config',
        configFile((c) => {
          tokenKey()(c);
          c.hsm = token.hsmConfig({ pin: { file: wrongPin } });
        }),
      ],
      env,
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /\/hsm\/pin\/file/);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(token.pin));
  });

  await it('wrap-data-key: a wrapped data key unwraps at start to the same key, and a clear copy never reaches disk', () => {
    const kek = runCli(
      ['keys', 'generate', '--hsm', '--config', configFile(), '--kid', 'ctp-kek'].concat([
        '--out',
        join(work, 'kek'),
        '--mechanism',
        'rsa-raw',
      ]),
      env,
    );
    assert.equal(kek.status, 0, kek.stderr);
    const wrappedData = join(work, 'data.wrapped');
    const wrappedFp = join(work, 'fingerprint.wrapped');
    for (const [out, from] of [
      [wrappedData, pki.files.dataKey],
      [wrappedFp, pki.files.fingerprintKey],
    ] as const) {
      const r = runCli(
        ['keys', 'wrap-data-key', '--config', configFile(), '--kek', 'ctp-kek'].concat([
          '--mechanism',
          'rsa-raw',
          '--from',
          from,
          '--out',
          out,
        ]),
        env,
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const wrapped = readFileSync(out, 'utf8');
      assert.ok(!wrapped.includes(readFileSync(from, 'utf8').trim()), 'not the key in clear');
    }
    const fresh = join(work, 'fresh.wrapped');
    assert.equal(
      runCli(
        [
          'keys',
          'wrap-data-key',
          '--config',
          configFile(),
          '--kek',
          'ctp-kek',
          '--mechanism',
          'rsa-raw',
          '--out',
          fresh,
        ],
        env,
      ).status,
      0,
    );

    const clear = loadSecrets(withToken(() => {}));
    const wrapped = loadSecrets(
      withToken((c) => {
        c.dataProtection = {
          keys: [
            { id: 'k1', file: wrappedData, wrappedBy: { label: 'ctp-kek', mechanism: 'rsa-raw' } },
            { id: 'k-fresh', file: fresh, wrappedBy: { label: 'ctp-kek', mechanism: 'rsa-raw' } },
          ],
          fingerprintKey: { file: wrappedFp, wrappedBy: { label: 'ctp-kek', mechanism: 'auto' } },
        };
      }),
    );
    try {
      const pan = '4111111111111111';
      assert.equal(
        soleIssuerKeys(wrapped).dataProtector.protectPan(pan, 'a').fingerprint,
        soleIssuerKeys(clear).dataProtector.protectPan(pan, 'a').fingerprint,
        'the unwrapped fingerprint key is the original',
      );
      // The first (active) key wraps the original data key: old rows stay readable.
      const ct = soleIssuerKeys(clear).dataProtector.encrypt(Buffer.from('payload'), 'row-1');
      assert.equal(
        soleIssuerKeys(wrapped).dataProtector.decrypt('k1', ct, 'row-1').toString(),
        'payload',
      );
    } finally {
      wrapped.close();
      clear.close();
    }
    // A file wrapped for another key (or not wrapped) stops the start, naming the field.
    const e = startError(
      withToken((c) => {
        c.dataProtection = {
          keys: [
            {
              id: 'k1',
              file: pki.files.dataKey,
              wrappedBy: { label: 'ctp-kek', mechanism: 'rsa-raw' },
            },
          ],
          fingerprintKey: { file: pki.files.fingerprintKey },
        };
      }),
    );
    assert.equal(e.field, '/dataProtection/keys/0/file');
    assert.match(e.message, /does not unwrap with the token key "ctp-kek"/);
    rmSync(join(work, 'kek'), { recursive: true, force: true });
  });

  await it('no PIN in any output the CLI or the token code produced', () => {
    assert.ok(!processOutput.join('\n').includes(token.pin));
  });

  function tokenOptions() {
    return {
      module: token.module,
      token: token.label,
      pin: token.pin,
      pinField: '/hsm/pin/file',
    };
  }
  function pkcs11Tool(args: string[]): string {
    return execFileSync(
      'pkcs11-tool',
      [
        '--module',
        token.module,
        '--token-label',
        token.label,
        '--login',
        '--pin',
        token.pin,
        ...args,
      ],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );
  }
});
