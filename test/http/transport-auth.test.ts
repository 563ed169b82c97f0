import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

describe('mutual TLS', () => {
  let db: TestDatabase;
  let s: TestServer;
  before(async () => {
    db = await sqliteDialect.create();
    s = await startTestServer(await testPki(), { storageUrl: db.url, tls: 'mtls' });
  });
  after(async () => {
    await s.close();
    await db.drop();
  });

  it('200 with a client certificate issued by clientCa', async () => {
    const res = await s.post(
      { encryptedData: await s.encode(enrollmentPayload()) },
      { clientCert: 'valid' },
    );
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
  });

  it('401 at HTTP level (not a broken handshake) without a client certificate', async () => {
    const res = await s.post(
      { encryptedData: await s.encode(enrollmentPayload()) },
      { clientCert: 'none' },
    );
    assert.equal(res.status, 401);
    assert.equal(res.body, '');
  });

  it('401 with a certificate from another CA', async () => {
    const res = await s.post(
      { encryptedData: await s.encode(enrollmentPayload()) },
      { clientCert: 'rogue' },
    );
    assert.equal(res.status, 401);
    assert.equal(res.body, '');
    assert.equal(
      (await s.runtime.store.list({ scope: ALL_ISSUERS })).length,
      1,
      'only the authenticated request was stored',
    );
  });
});

describe('TLS without client certificates', () => {
  it('serves over TLS and does not ask for a client certificate', async () => {
    const db = await sqliteDialect.create();
    const s = await startTestServer(await testPki(), { storageUrl: db.url, tls: 'tls' });
    try {
      assert.ok(s.url.startsWith('https://'));
      assert.equal(
        (
          await s.post(
            { encryptedData: await s.encode(enrollmentPayload()) },
            { clientCert: 'none' },
          )
        ).status,
        200,
      );
    } finally {
      await s.close();
      await db.drop();
    }
  });
});

describe('X-Pay-Token', () => {
  const secret = 'x-pay-token-shared-secret-0123456789';
  let db: TestDatabase;
  let s: TestServer;
  before(async () => {
    db = await sqliteDialect.create();
    s = await startTestServer(await testPki(), {
      storageUrl: db.url,
      xPayTokenSecret: secret,
      basePath: '/issuer/ctp',
    });
  });
  after(async () => {
    await s.close();
    await db.drop();
  });

  it('200 with the right token (resource path taken after the base path)', async () => {
    const res = await s.post({ encryptedData: await s.encode(enrollmentPayload()) });
    assert.equal(res.status, 200);
  });

  it('401 when missing, computed with the wrong secret, malformed, or over another body', async () => {
    const body = { encryptedData: await s.encode(enrollmentPayload()) };
    assert.equal((await s.post(body, { xPayToken: false })).status, 401);
    assert.equal(
      (await s.post(body, { xPayToken: { secret: 'another-secret-of-enough-length' } })).status,
      401,
    );
    assert.equal(
      (await s.post(body, { xPayToken: false, headers: { 'x-pay-token': 'xv2:123:abc' } })).status,
      401,
    );
    const other = { encryptedData: await s.encode(enrollmentPayload()) };
    const good = await s.post(other);
    assert.equal(good.status, 200);
    assert.equal((await s.runtime.store.list({ scope: ALL_ISSUERS })).length, 2);
  });

  it('401 when the timestamp is outside the allowed skew, either way', async () => {
    const body = { encryptedData: await s.encode(enrollmentPayload()) };
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await s.post(body, { xPayToken: { timestamp: now - 600 } })).status, 401);
    assert.equal((await s.post(body, { xPayToken: { timestamp: now + 600 } })).status, 401);
    assert.equal(
      (await s.post(body, { xPayToken: { timestamp: now - 60 } })).status,
      200,
      'within the 120 s skew',
    );
  });

  it('the base path is part of the route: the bare path is 404', async () => {
    const res = await s.post(
      { encryptedData: await s.encode(enrollmentPayload()) },
      { rawPath: '/vtis/v1/tokenRequestors/40010030273/cardEnrollment/notification' },
    );
    assert.equal(res.status, 404);
  });
});

describe('verification key given as SPKI PEM instead of a certificate', () => {
  it('verifies the same', async () => {
    const db = await sqliteDialect.create();
    const s = await startTestServer(await testPki(), {
      storageUrl: db.url,
      verificationAs: 'spki',
    });
    try {
      assert.equal(
        (await s.post({ encryptedData: await s.encode(enrollmentPayload()) })).status,
        200,
      );
    } finally {
      await s.close();
      await db.drop();
    }
  });
});
