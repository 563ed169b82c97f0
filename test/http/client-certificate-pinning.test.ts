import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { ConfigError } from '../../src/errors.js';
import { loadSecrets } from '../../src/keys/load-secrets.js';
import {
  type ClientCertificateState,
  checkClientCertificate,
} from '../../src/pipeline/authenticate.js';
import { createCertificate, generateRsaKeyPair } from '../../src/pki/certificates.js';
import { startAdminEnv } from '../support/admin-harness.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import {
  configFor,
  type PostOptions,
  startTestServer,
  type TestServer,
} from '../support/server-harness.js';
import { type TestPki, testPki } from '../support/test-pki.js';
import { waitFor } from '../support/wait-for.js';

// listen.tls.clientCertificate pins Visa's client certificate among those its CA issued (subject
// CN and SHA-256 fingerprints); listen.tls.crl refuses revoked ones. Real certificates and CRLs
// made here, over loopback mutual TLS. The CA's key signs the CRLs, as Visa's CA would.

const SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

interface TestCa {
  subject: string;
  privateKeyPem: string;
  certPem: string;
}

async function makeCa(subject: string): Promise<TestCa> {
  const k = generateRsaKeyPair();
  const certPem = await createCertificate({
    subject,
    publicKeyPem: k.publicKeyPem,
    selfPrivateKeyPem: k.privateKeyPem,
    ca: true,
  });
  return { subject, privateKeyPem: k.privateKeyPem, certPem };
}

/** A CRL of `ca` as OpenSSL writes it (PEM label `X509 CRL`), revoking `serials`. */
async function makeCrl(
  ca: TestCa,
  o: { revoked?: string[]; thisUpdate?: Date; nextUpdate?: Date } = {},
): Promise<string> {
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    createPrivateKey(ca.privateKeyPem).export({ type: 'pkcs8', format: 'der' }),
    SIGNING,
    false,
    ['sign'],
  );
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.subject,
    thisUpdate: o.thisUpdate ?? new Date(Date.now() - 60_000),
    nextUpdate: o.nextUpdate ?? new Date(Date.now() + DAY),
    signingAlgorithm: SIGNING,
    signingKey,
    entries: (o.revoked ?? []).map((serialNumber) => ({ serialNumber })),
  });
  return `${x509.PemConverter.encode(crl.rawData, 'X509 CRL')}\n`;
}

describe('pinning and revocation of Visa client certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctp-pinning-'));
  let files = 0;
  const file = (name: string, content: string, mode = 0o644) => {
    const p = join(dir, name);
    writeFileSync(p, content, { mode });
    chmodSync(p, mode);
    return p;
  };
  let pki: TestPki;
  let db: TestDatabase;
  let s: TestServer;
  let visaCa: TestCa;
  let otherCa: TestCa;
  const certs: Record<string, { cert: string; key: string; fingerprint: string }> = {};
  let tls: Record<string, unknown>;

  const issue = async (name: string, cn: string) => {
    const k = generateRsaKeyPair();
    const pem = await createCertificate({
      subject: `CN=${cn}`,
      publicKeyPem: k.publicKeyPem,
      issuer: { subject: visaCa.subject, privateKeyPem: visaCa.privateKeyPem },
      usage: 'client',
    });
    certs[name] = {
      cert: file(`${name}.cert.pem`, pem),
      key: file(`${name}.key.pem`, k.privateKeyPem, 0o600),
      fingerprint: new X509Certificate(pem).fingerprint256,
    };
    return new X509Certificate(pem);
  };

  before(async () => {
    pki = await testPki();
    visaCa = await makeCa('CN=Visa Client CA (test)');
    otherCa = await makeCa('CN=Another Client CA (test)');
    await issue('pinned', 'visa-client');
    await issue('sameNameOtherKey', 'visa-client');
    await issue('otherName', 'someone-else');
    const revoked = await issue('revoked', 'visa-client');
    // Two CAs, two CRLs, Visa's second: Node reads only the first CRL of a buffer, so the
    // revoked certificate below is refused (and the good one accepted) only if each is passed.
    const clientCa = file('client-ca.pem', otherCa.certPem + visaCa.certPem);
    const crl = file(
      'client.crl.pem',
      (await makeCrl(otherCa)) + (await makeCrl(visaCa, { revoked: [revoked.serialNumber] })),
    );
    tls = {
      cert: pki.files.serverCert,
      key: pki.files.serverKey,
      clientCa,
      crl,
      clientCertificate: {
        subject: 'visa-client',
        // Both spellings: as openssl prints it, and bare lower-case hex.
        sha256: [
          certs.pinned!.fingerprint,
          certs.revoked!.fingerprint.replaceAll(':', '').toLowerCase(),
        ],
      },
    };
    db = await sqliteDialect.create();
    s = await startTestServer(pki, {
      storageUrl: db.url,
      tls: 'mtls',
      extra: { listen: { host: '127.0.0.1', port: 0, tls } },
    });
  });
  after(async () => {
    await s.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  let sent = 0;
  const post = async (o: PostOptions) => {
    sent++;
    return s.post({ encryptedData: await s.encode(enrollmentPayload()) }, o);
  };
  /** The reason code logged for the last request (its line is written after the answer). */
  const lastCode = async () => {
    const lines = await waitFor('the last request to be logged', () => {
      const l = s.logs
        .map((x) => JSON.parse(x) as { msg: string; code?: string | null })
        .filter((x) => x.msg === 'visa request');
      return l.length === sent ? l : undefined;
    });
    return lines.at(-1)?.code;
  };

  it('200 with the pinned certificate', async () => {
    const res = await post({ clientCert: certs.pinned! });
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
  });

  it('401 with another certificate from the same CA, same CN, fingerprint not pinned', async () => {
    const res = await post({ clientCert: certs.sameNameOtherKey! });
    assert.equal(res.status, 401);
    assert.equal(res.body, '');
    assert.equal(await lastCode(), 'CLIENT_CERT_NOT_PINNED');
  });

  it('401 with a certificate from the same CA under another CN', async () => {
    assert.equal((await post({ clientCert: certs.otherName! })).status, 401);
    assert.equal(await lastCode(), 'CLIENT_CERT_NOT_PINNED');
  });

  it('401 with a revoked certificate, even one whose fingerprint is pinned', async () => {
    assert.equal((await post({ clientCert: certs.revoked! })).status, 401);
    assert.equal(await lastCode(), 'CLIENT_CERT_UNTRUSTED');
  });

  it('401 without a certificate, or with one from a CA not in clientCa, as before', async () => {
    assert.equal((await post({ clientCert: 'none' })).status, 401);
    assert.equal(await lastCode(), 'CLIENT_CERT_MISSING');
    assert.equal((await post({ clientCert: 'valid' })).status, 401, "the test PKI's CA");
    assert.equal(await lastCode(), 'CLIENT_CERT_UNTRUSTED');
  });

  it('stored only what the pinned certificate sent', async () => {
    assert.equal((await s.runtime.store.list({ scope: ALL_ISSUERS })).length, 1);
  });

  it('fingerprints are normalised at load; a malformed one, a pin or CRL without clientCa, or an empty pin are refused, naming the field', () => {
    const config = (t: Record<string, unknown>) =>
      configFor(pki, {
        storageUrl: 'sqlite::memory:',
        extra: { listen: { host: '127.0.0.1', port: 0, tls: t } },
      });
    assert.deepEqual(config(tls).listen.tls?.clientCertificate?.sha256, [
      certs.pinned!.fingerprint.replaceAll(':', '').toLowerCase(),
      certs.revoked!.fingerprint.replaceAll(':', '').toLowerCase(),
    ]);
    const refused = (t: Record<string, unknown>, field: string) =>
      assert.throws(
        () => config(t),
        (e: unknown) => e instanceof ConfigError && e.field === field,
        field,
      );
    const short = certs.pinned!.fingerprint.slice(3);
    refused(
      { ...tls, clientCertificate: { sha256: [short] } },
      '/listen/tls/clientCertificate/sha256/0',
    );
    refused(
      { ...tls, clientCertificate: { sha256: [`${certs.pinned!.fingerprint}:00`] } },
      '/listen/tls/clientCertificate/sha256/0',
    );
    refused({ ...tls, clientCertificate: {} }, '/listen/tls/clientCertificate');
    refused(
      { ...tls, clientCertificate: { subject: '' } },
      '/listen/tls/clientCertificate/subject',
    );
    refused({ ...tls, clientCa: undefined, crl: undefined }, '/listen/tls/clientCertificate');
    refused({ ...tls, clientCa: undefined, clientCertificate: undefined }, '/listen/tls/crl');
  });

  it('a CRL file that would refuse every certificate stops the start, naming listen.tls.crl', async () => {
    const withCrl = (crl: string, clientCa = tls.clientCa as string) =>
      configFor(pki, {
        storageUrl: 'sqlite::memory:',
        extra: {
          listen: {
            host: '127.0.0.1',
            port: 0,
            tls: { ...tls, clientCa, crl: file(`${++files}.crl.pem`, crl) },
          },
        },
      });
    const refused = async (crl: string, why: RegExp, clientCa?: string) =>
      assert.throws(
        () => loadSecrets(withCrl(crl, clientCa)).close(),
        (e: unknown) =>
          e instanceof ConfigError && e.field === '/listen/tls/crl' && why.test(e.message),
        String(why),
      );
    const current = await makeCrl(visaCa);
    await refused(
      (await makeCrl(otherCa)) +
        (await makeCrl(visaCa, {
          thisUpdate: new Date(Date.now() - 3 * DAY),
          nextUpdate: new Date(Date.now() - DAY),
        })),
      /CRL from "CN=Visa Client CA \(test\)" expired at .* \(nextUpdate\)/,
    );
    await refused(
      (await makeCrl(otherCa)) +
        (await makeCrl(visaCa, { thisUpdate: new Date(Date.now() + DAY) })),
      /not valid before/,
    );
    await refused(current, /no CRL from "CN=Another Client CA \(test\)" of clientCa/);
    await refused(
      current + (await makeCrl(await makeCa('CN=Stranger CA'))),
      /a CRL from "CN=Stranger CA", which is not a CA of clientCa/,
    );
    await refused(
      current.replaceAll('X509 CRL', 'CRL'),
      /no PEM CRL/,
      file('v.pem', visaCa.certPem),
    );
    // One CA, its CRL: accepted, and its nextUpdate kept for /readyz.
    const ok = loadSecrets(withCrl(current, file('visa-ca.pem', visaCa.certPem)));
    assert.ok(ok.clientCrlNextUpdate && ok.clientCrlNextUpdate.getTime() > Date.now());
    ok.close();
  });

  it("the admin listener's /readyz warns once a CRL is past its nextUpdate, status unchanged", async () => {
    const adminDb = await sqliteDialect.create();
    let now = Date.now();
    const env = await startAdminEnv(adminDb.url, {
      now: () => now,
      extra: { listen: { host: '127.0.0.1', port: 0, tls } },
    });
    try {
      const codes = async () => {
        const r = await env.call('GET', '/readyz');
        assert.equal(r.status, 200);
        return r.json.warnings.map((w: { code: string }) => w.code);
      };
      assert.deepEqual(await codes(), []);
      now += 2 * DAY;
      assert.deepEqual(await codes(), ['CLIENT_CRL_EXPIRED']);
    } finally {
      await env.close();
      await adminDb.drop();
    }
  });
});

describe('checkClientCertificate with a pin', () => {
  const state: ClientCertificateState = {
    presented: true,
    authorized: true,
    commonName: 'visa-client',
    sha256: 'ab'.repeat(32),
  };
  const code = (f: () => void) => {
    try {
      f();
      return 'accepted';
    } catch (e) {
      return (e as { code: string }).code;
    }
  };
  it('checks each member given, and only those', () => {
    const pinned = new Set(['ab'.repeat(32)]);
    const other = new Set(['cd'.repeat(32)]);
    const cases: [
      Parameters<typeof checkClientCertificate>[1],
      ClientCertificateState | undefined,
      string,
    ][] = [
      [undefined, state, 'accepted'],
      [{ subject: 'visa-client' }, state, 'accepted'],
      [{ subject: 'Visa-Client' }, state, 'CLIENT_CERT_NOT_PINNED'],
      [{ sha256: pinned }, state, 'accepted'],
      [{ sha256: other }, state, 'CLIENT_CERT_NOT_PINNED'],
      [{ subject: 'visa-client', sha256: pinned }, state, 'accepted'],
      [{ subject: 'visa-client', sha256: other }, state, 'CLIENT_CERT_NOT_PINNED'],
      [{ subject: 'someone-else', sha256: pinned }, state, 'CLIENT_CERT_NOT_PINNED'],
      [{ subject: 'visa-client' }, { ...state, commonName: undefined }, 'CLIENT_CERT_NOT_PINNED'],
      [{ sha256: pinned }, { ...state, authorized: false }, 'CLIENT_CERT_UNTRUSTED'],
      [{ sha256: pinned }, undefined, 'CLIENT_CERT_MISSING'],
    ];
    for (const [pin, st, want] of cases)
      assert.equal(
        code(() => checkClientCertificate(st, pin)),
        want,
        JSON.stringify({ pin: pin && { ...pin, sha256: pin.sha256 && [...pin.sha256] }, st }),
      );
  });
});
