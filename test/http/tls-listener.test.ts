import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type ConnectionOptions, connect } from 'node:tls';
import { postRequest, RawHttpConnection, SessionCache } from '../../bench/raw-http-client.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import {
  configFor,
  NOTIFICATION_PATH,
  startTestServer,
  type TestServer,
} from '../support/server-harness.js';
import { type TestPki, testPki } from '../support/test-pki.js';

// What the Visa listener offers over TLS (src/config/listen-tls-schema.ts): TLS 1.2 and 1.3
// only, and under 1.2 only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305. Node's own
// defaults would also accept static-RSA key exchange and CBC suites (its list ends in "HIGH").

type Handshake = { ok: true; protocol: string; cipher: string } | { ok: false; code: string };

function handshake(port: number, pki: TestPki, o: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(pki.files.caCert),
      cert: readFileSync(pki.files.clientCert),
      key: readFileSync(pki.files.clientKey),
      ...o,
    });
    socket.once('secureConnect', () => {
      resolve({
        ok: true,
        protocol: socket.getProtocol() ?? '',
        cipher: socket.getCipher().name,
      });
      socket.destroy();
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, code: e.code ?? '' }));
  });
}

const portOf = (s: TestServer) => Number(new URL(s.url).port);

describe('TLS versions and suites on the Visa listener', () => {
  let pki: TestPki;
  let db: TestDatabase;
  let s: TestServer;
  before(async () => {
    pki = await testPki();
    db = await sqliteDialect.create();
    s = await startTestServer(pki, { storageUrl: db.url, tls: 'mtls' });
  });
  after(async () => {
    await s.close();
    await db.drop();
  });

  it('speaks TLS 1.3, and TLS 1.2 with an ECDHE AEAD suite', async () => {
    const v13 = await handshake(portOf(s), pki, {});
    assert.deepEqual(v13.ok && v13.protocol, 'TLSv1.3');
    const v12 = await handshake(portOf(s), pki, { maxVersion: 'TLSv1.2' });
    assert.ok(v12.ok, JSON.stringify(v12));
    assert.equal(v12.protocol, 'TLSv1.2');
    assert.equal(v12.cipher, 'ECDHE-RSA-AES128-GCM-SHA256', 'the server picks from its own order');
  });

  it('refuses a TLS 1.1 client', async () => {
    // OpenSSL 3 allows TLS 1.1 at security level 0 only: the client is made able to offer it.
    const r = await handshake(portOf(s), pki, {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    assert.equal(r.ok, false);
  });

  for (const suite of [
    'AES128-GCM-SHA256', // static-RSA key exchange (no forward secrecy)
    'AES256-SHA256', // static RSA, CBC
    'AES128-SHA', // static RSA, CBC
    'ECDHE-RSA-AES128-SHA256', // forward secret, but CBC
    'ECDHE-RSA-AES256-SHA', // forward secret, but CBC
  ]) {
    it(`refuses a TLS 1.2 client offering only ${suite}`, async () => {
      const r = await handshake(portOf(s), pki, { maxVersion: 'TLSv1.2', ciphers: suite });
      assert.equal(r.ok, false, JSON.stringify(r));
    });
  }

  it('a resumed session keeps its client certificate: 200, not 401', async () => {
    const tls = {
      ca: readFileSync(pki.files.caCert),
      cert: readFileSync(pki.files.clientCert),
      key: readFileSync(pki.files.clientKey),
      sessions: new SessionCache(),
    };
    const send = async () => {
      const c = new RawHttpConnection('127.0.0.1', portOf(s), tls);
      const body = Buffer.from(
        JSON.stringify({ encryptedData: await s.encode(enrollmentPayload()) }),
      );
      const status = await c.send(
        postRequest(
          `127.0.0.1:${portOf(s)}`,
          `${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT`,
          body,
          true,
        ),
      );
      c.close();
      return { status, resumed: c.resumed };
    };
    const first = await send();
    assert.deepEqual(first, { status: 200, resumed: 0 });
    const second = await send();
    assert.deepEqual(second, { status: 200, resumed: 1 });
  });
});

describe('TLS settings in the configuration', () => {
  it('with minVersion TLSv1.3, a TLS 1.2 client is refused', async () => {
    const pki = await testPki();
    const db = await sqliteDialect.create();
    const tls = { cert: pki.files.serverCert, key: pki.files.serverKey, minVersion: 'TLSv1.3' };
    const s = await startTestServer(pki, {
      storageUrl: db.url,
      tls: 'tls',
      extra: { listen: { host: '127.0.0.1', port: 0, tls } },
    });
    try {
      assert.equal((await handshake(portOf(s), pki, { maxVersion: 'TLSv1.2' })).ok, false);
      const v13 = await handshake(portOf(s), pki, {});
      assert.equal(v13.ok && v13.protocol, 'TLSv1.3');
    } finally {
      await s.close();
      await db.drop();
    }
  });

  it('refuses, naming the field, a TLS 1.2 suite list with anything but ECDHE and an AEAD', async () => {
    const pki = await testPki();
    for (const ciphers of ['ECDHE-RSA-AES128-SHA256', 'AES128-GCM-SHA256', 'HIGH', '']) {
      assert.throws(
        () =>
          configFor(pki, {
            storageUrl: 'sqlite:unused.sqlite',
            extra: {
              listen: {
                tls: { cert: pki.files.serverCert, key: pki.files.serverKey, ciphers },
              },
            },
          }),
        /\/listen\/tls\/ciphers/,
        ciphers,
      );
    }
  });
});
