import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type * as Pkcs11 from 'pkcs11js';
import { register } from 'prom-client';
import { request } from 'undici';
import { keyInventory } from '../../src/admin/key-inventory.js';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { rawSql } from '../support/raw-sql.js';
import { capturedLogs, startTestServer, type TestServer } from '../support/server-harness.js';
import { softHsmMissing, type TestToken, testToken } from '../support/softhsm.js';
import { testPki } from '../support/test-pki.js';

// Serving with the issuer's key in a real SoftHSM2 token: a rotation between a file key and a
// token key, and a token that fails while serving (its sessions closed under the service, its
// folder taken away) and comes back. Visa gets 500 for what was not stored, nothing else.

const skip = softHsmMissing();

describe('serving with a key in the token', { skip }, async () => {
  if (skip) return;
  let token: TestToken;
  let db: TestDatabase;
  let s: TestServer;
  const pki = await testPki();

  before(async () => {
    token = testToken();
    token.importKey(pki.issuerKid2, createPrivateKey(readFileSync(pki.files.issuerKey2)));
    db = await sqliteDialect.create();
    // The first kid from its PEM file, the second from the token: one list, a rotation.
    s = await startTestServer(pki, {
      storageUrl: db.url,
      decryptionKids: ['first', 'second'],
      hsm: { token, kids: ['second'] },
    });
  });
  after(async () => {
    await s.close();
    await db.drop();
  });

  const rows = async () => (await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1000 })).length;
  const ready = async () => (await request(`${s.url}/readyz`)).statusCode;
  const tokenErrors = async () => {
    const m = await register.getSingleMetric('ctp_notify_hsm_errors_total')?.get();
    return (m?.values ?? []).reduce((n, v) => n + v.value, 0);
  };

  it('accepts notifications to the file key and to the token key alike', async () => {
    for (const encryptTo of ['first', 'second'] as const) {
      const res = await s.post({
        encryptedData: await s.encode(enrollmentPayload(), { encryptTo }),
      });
      assert.equal(res.status, 200, encryptTo);
    }
    const stored = await rawSql(s.runtime.store).all<{ jwe_kid: string; status: string }>(
      'SELECT jwe_kid, status FROM notifications ORDER BY jwe_kid',
    );
    assert.deepEqual(stored, [
      { jwe_kid: pki.issuerKid, status: 'accepted' },
      { jwe_kid: pki.issuerKid2, status: 'accepted' },
    ]);
    assert.equal(await ready(), 200);
  });

  it('sessions closed under the service: 500 and nothing stored, then it reconnects by itself', async () => {
    const before = await rows();
    const errorsBefore = await tokenErrors();
    closeAllSessions(token);
    const encryptedData = await s.encode(enrollmentPayload(), { encryptTo: 'second' });
    const res = await s.post({ encryptedData });
    assert.equal(res.status, 500, 'Visa retries');
    assert.equal(res.body, '');
    assert.equal(await rows(), before, 'nothing stored, not even as quarantined');
    assert.ok((await tokenErrors()) > errorsBefore, 'ctp_notify_hsm_errors_total counts it');
    // A file-key notification is unaffected.
    const file = await s.post({ encryptedData: await s.encode(enrollmentPayload()) });
    assert.equal(file.status, 200);
    await eventually(async () => ((await ready()) === 200 ? true : undefined), 'ready again');
    assert.equal((await s.post({ encryptedData })).status, 200, "Visa's retry is accepted");
    assert.equal(await rows(), before + 2);
    assert.match(capturedLogs.join(''), /"tokenCode":"CKR_SESSION_HANDLE_INVALID"/);
  });

  it('the token folder taken away and brought back: unready meanwhile, healed without a restart', async () => {
    const away = `${token.tokenDir}-away`;
    renameSync(token.tokenDir, away);
    try {
      const encryptedData = await s.encode(enrollmentPayload(), { encryptTo: 'second' });
      for (let i = 0; i < 3; i++) assert.equal((await s.post({ encryptedData })).status, 500);
      assert.equal(await ready(), 503, '/readyz reports the token');
      const before = await rows();
      renameSync(away, token.tokenDir);
      await eventually(async () => ((await ready()) === 200 ? true : undefined), 'ready again');
      assert.equal((await s.post({ encryptedData })).status, 200);
      assert.equal(await rows(), before + 1);
    } finally {
      try {
        renameSync(away, token.tokenDir);
      } catch {
        // already back
      }
    }
  });

  it('the key inventory (the console, /api/keys) says which key is in the token', () => {
    const items = keyInventory(s.config, s.runtime.secrets).filter((k) => k.use === 'decryption');
    const byKid = new Map(items.map((k) => [k.id, k]));
    assert.equal(byKid.get(pki.issuerKid)?.location, 'file');
    assert.equal(byKid.get(pki.issuerKid2)?.location, 'token');
    assert.equal(
      byKid.get(pki.issuerKid2)?.where,
      `token "${token.label}", label "${pki.issuerKid2}" (rsa-raw)`,
    );
  });

  it('never logs the PIN', () => {
    assert.ok(capturedLogs.length > 0);
    assert.ok(!capturedLogs.join('').includes(token.pin));
  });
});

/**
 * What an HSM outage or a client-library restart does to a process's sessions: C_CloseAllSessions
 * through another handle on the same module (PKCS#11 §5.6: it closes every session of the
 * application on that slot), leaving the module initialised.
 */
function closeAllSessions(token: TestToken): void {
  const lib = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11;
  const p = new lib.PKCS11();
  p.load(token.module);
  try {
    p.C_Initialize();
  } catch {
    // initialised by the service: the same module state
  }
  for (const slot of p.C_GetSlotList(true)) {
    if (p.C_GetTokenInfo(slot).label.trim() === token.label) p.C_CloseAllSessions(slot);
  }
}
