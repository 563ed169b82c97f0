import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type ConnectionOptions, connect } from 'node:tls';
import { Agent, request } from 'undici';
import { ConfigError } from '../../src/errors.js';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { secretEnv } from '../support/secret-env.js';
import { configFor } from '../support/server-harness.js';
import { type TestPki, testPki } from '../support/test-pki.js';

// The admin listener over TLS offers what the Visa listener offers (src/config/listen-tls-schema.ts):
// TLS 1.2 and 1.3 only, under 1.2 only ECDHE with an AEAD (RFC 9325 §4.2), never Node's default
// list with its CBC suites; and every answer carries HSTS (RFC 6797), which plain HTTP must not.

type Handshake = { ok: true; protocol: string; cipher: string } | { ok: false; code: string };

function handshake(url: string, pki: TestPki, o: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port: Number(new URL(url).port),
      ca: readFileSync(pki.files.caCert),
      ...o,
    });
    socket.once('secureConnect', () => {
      resolve({ ok: true, protocol: socket.getProtocol() ?? '', cipher: socket.getCipher().name });
      socket.destroy();
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, code: e.code ?? '' }));
  });
}

/** Every kind of answer the admin listener gives: public, console, refused, unknown, API. */
const ANSWERS: [string, string][] = [
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/metrics'],
  ['GET', '/login'],
  ['GET', '/'],
  ['GET', '/api/notifications'],
  ['GET', '/api/openapi.json'],
  ['GET', '/no/such/route'],
  ['POST', '/login'],
];

/** One of {@link ANSWERS}; its headers. */
async function answer(base: string, [method, path]: [string, string], dispatcher?: Agent) {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    ...(dispatcher ? { dispatcher } : {}),
    ...(method === 'POST'
      ? {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'username=nobody&password=wrong',
        }
      : {}),
  });
  await res.body.text();
  return res.headers;
}

describe('admin listener over TLS', () => {
  let pki: TestPki;
  let db: TestDatabase;
  let env: AdminTestEnv;
  let agent: Agent;
  before(async () => {
    pki = await testPki();
    db = await sqliteDialect.create();
    env = await startAdminEnv(db.url, {
      extra: {
        admin: {
          localMfa: 'optional',
          host: '127.0.0.1',
          port: 0,
          tls: { cert: pki.files.serverCert, key: pki.files.serverKey },
        },
      },
    });
    agent = new Agent({ connect: { ca: readFileSync(pki.files.caCert) } });
  });
  after(async () => {
    await agent.close();
    await env.close();
    await db.drop();
  });

  it('speaks TLS 1.3, and TLS 1.2 with an ECDHE AEAD suite in its own order', async () => {
    assert.match(env.adminUrl, /^https:/);
    const v13 = await handshake(env.adminUrl, pki, {});
    assert.deepEqual(v13.ok && v13.protocol, 'TLSv1.3');
    const v12 = await handshake(env.adminUrl, pki, { maxVersion: 'TLSv1.2' });
    assert.ok(v12.ok, JSON.stringify(v12));
    assert.equal(v12.cipher, 'ECDHE-RSA-AES128-GCM-SHA256');
  });

  it('refuses a TLS 1.1 client', async () => {
    // OpenSSL 3 allows TLS 1.1 at security level 0 only: the client is made able to offer it.
    const r = await handshake(env.adminUrl, pki, {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    assert.equal(r.ok, false);
  });

  for (const suite of [
    'ECDHE-RSA-AES128-SHA256', // forward secret, but CBC: in Node's default list
    'ECDHE-RSA-AES256-SHA', // forward secret, but CBC: in Node's default list
    'AES128-GCM-SHA256', // static-RSA key exchange
    'AES256-SHA256', // static RSA, CBC
  ]) {
    it(`refuses a TLS 1.2 client offering only ${suite}`, async () => {
      const r = await handshake(env.adminUrl, pki, { maxVersion: 'TLSv1.2', ciphers: suite });
      assert.equal(r.ok, false, JSON.stringify(r));
    });
  }

  it('every answer carries strict-transport-security: max-age=31536000', async () => {
    for (const a of ANSWERS) {
      const headers = await answer(env.adminUrl, a, agent);
      assert.equal(headers['strict-transport-security'], 'max-age=31536000', a.join(' '));
    }
  });
});

describe("the admin listener's /readyz", () => {
  it('answers 200 with a JSON detail listing the warning when neither mutual TLS nor X-Pay-Token is required', async () => {
    const db = await sqliteDialect.create();
    const env = await startAdminEnv(db.url);
    try {
      const res = await env.call('GET', '/readyz');
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(res.json.status, 'ready');
      assert.deepEqual(
        res.json.warnings.map((w: { code: string }) => w.code),
        ['VISA_CALLER_NOT_AUTHENTICATED'],
      );
      assert.match(res.json.warnings[0].message, /proxy that ends mutual TLS/);
      // Codes and fixed text: no path, no storage URL from the configuration.
      const pki = await testPki();
      assert.ok(!res.text.includes(pki.dir));
      assert.ok(!res.text.includes(db.url));
    } finally {
      await env.close();
      await db.drop();
    }
  });

  it('lists nothing with X-Pay-Token; a 503 (storage down) keeps its status, with the reason', async () => {
    const db = await sqliteDialect.create();
    const secret = 'x-pay-token-shared-secret-0123456789';
    const env = await startAdminEnv(db.url, {
      extra: { auth: { xPayToken: { sharedSecret: secretEnv(secret) } } },
    });
    try {
      const ready = await env.call('GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json, { status: 'ready', warnings: [] });
      await env.adminRuntime.store.close();
      const down = await env.call('GET', '/readyz');
      assert.equal(down.status, 503);
      assert.deepEqual(down.json, {
        status: 'not ready',
        reason: 'STORAGE_UNAVAILABLE',
        warnings: [],
      });
    } finally {
      await env.close();
      await db.drop();
    }
  });
});

describe('admin TLS settings in the configuration', () => {
  it('minVersion TLSv1.3 refuses a TLS 1.2 client; a suite list with CBC is refused at start, naming the field', async () => {
    const pki = await testPki();
    const tls = { cert: pki.files.serverCert, key: pki.files.serverKey };
    assert.throws(
      () =>
        configFor(pki, {
          storageUrl: 'sqlite::memory:',
          extra: {
            admin: {
              port: 0,
              localMfa: 'optional',
              tls: { ...tls, ciphers: 'ECDHE-RSA-AES128-SHA256' },
            },
          },
        }),
      (e: unknown) => e instanceof ConfigError && e.field === '/admin/tls/ciphers',
    );
    const db = await sqliteDialect.create();
    const env = await startAdminEnv(db.url, {
      extra: {
        admin: {
          host: '127.0.0.1',
          port: 0,
          localMfa: 'optional',
          tls: { ...tls, minVersion: 'TLSv1.3' },
        },
      },
    });
    try {
      assert.equal((await handshake(env.adminUrl, pki, { maxVersion: 'TLSv1.2' })).ok, false);
      const v13 = await handshake(env.adminUrl, pki, {});
      assert.equal(v13.ok && v13.protocol, 'TLSv1.3');
    } finally {
      await env.close();
      await db.drop();
    }
  });
});

describe('admin listener over plain HTTP', () => {
  it('sends no HSTS (RFC 6797 §7.2), the other security headers as over TLS', async () => {
    const db = await sqliteDialect.create();
    const env = await startAdminEnv(db.url);
    try {
      assert.match(env.adminUrl, /^http:/);
      for (const a of ANSWERS) {
        const headers = await answer(env.adminUrl, a);
        assert.equal(headers['strict-transport-security'], undefined, a.join(' '));
        assert.equal(headers['x-content-type-options'], 'nosniff', a.join(' '));
      }
    } finally {
      await env.close();
      await db.drop();
    }
  });
});
