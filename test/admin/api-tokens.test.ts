import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { runCli } from '../support/cli-process.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { processTempDir } from '../support/temp-dir.js';

const DAY = 86_400_000;

/** API tokens: named, expiring, listed with their last use, revocable (PCI DSS 8.3.9, 8.6). */
describe('API tokens', () => {
  let db: TestDatabase;
  let env: AdminTestEnv;
  let offset = 0;
  const admin = () => env.operators.admin.apiToken;

  before(async () => {
    db = await sqliteDialect.create();
    env = await startAdminEnv(db.url, { now: () => Date.now() + offset });
  });
  after(async () => {
    await env?.close();
    await db?.drop();
  });

  it("the token `operators add` gives expires in 90 days; a channel system's never does", async () => {
    const viewer = await env.call('GET', '/api/operators/vera.viewer/tokens', { token: admin() });
    assert.equal(viewer.status, 200);
    const [initial] = viewer.json.items;
    assert.equal(initial.name, 'initial');
    const days = (Date.parse(initial.expiresAt) - Date.parse(initial.createdAt)) / DAY;
    assert.equal(days, 90);
    const channel = await env.call('GET', '/api/operators/bank.app/tokens', { token: admin() });
    assert.equal(channel.json.items[0].expiresAt, null);
  });

  it("an admin issues their own tokens and a channel system's, not another person's", async () => {
    const other = await env.call('POST', '/api/operators/vera.viewer/tokens', {
      token: admin(),
      body: { name: 'as vera' },
    });
    assert.deepEqual([other.status, other.json.error.code], [403, 'NOT_YOURS']);
  });

  it('a token issued for a day works, shows its last use, and stops when it expires', async () => {
    const issued = await env.call('POST', '/api/operators/adam.admin/tokens', {
      token: admin(),
      body: { name: 'nightly report', expiresInDays: 1 },
    });
    assert.equal(issued.status, 201);
    assert.equal(issued.headers['cache-control'], 'no-store');
    assert.equal((await env.call('GET', '/api/keys', { token: issued.json.apiToken })).status, 200);
    const listed = await env.call('GET', '/api/operators/adam.admin/tokens', { token: admin() });
    const mine = listed.json.items.find((t: { id: string }) => t.id === issued.json.id);
    assert.equal(mine.state, 'live');
    assert.ok(mine.lastUsedAt, 'its use is recorded');
    assert.ok(!JSON.stringify(listed.json).includes(issued.json.apiToken), 'never the token');
    offset = DAY + 60_000;
    try {
      assert.equal(
        (await env.call('GET', '/api/keys', { token: issued.json.apiToken })).status,
        401,
      );
      const after = await env.call('GET', '/api/operators/adam.admin/tokens', { token: admin() });
      assert.equal(
        after.json.items.find((t: { id: string }) => t.id === issued.json.id).state,
        'expired',
      );
    } finally {
      offset = 0;
    }
  });

  it('a revoked token stops at once; the revocation is audited', async () => {
    const issued = await env.call('POST', '/api/operators/adam.admin/tokens', {
      token: admin(),
      body: { name: 'ci' },
    });
    const t = issued.json.apiToken;
    assert.equal((await env.call('GET', '/api/keys', { token: t })).status, 200);
    const revoked = await env.call(
      'POST',
      `/api/operators/adam.admin/tokens/${issued.json.id}/revoke`,
      { token: admin() },
    );
    assert.deepEqual(revoked.json, { id: issued.json.id, revoked: true });
    assert.equal((await env.call('GET', '/api/keys', { token: t })).status, 401);
    const again = await env.call(
      'POST',
      `/api/operators/adam.admin/tokens/${issued.json.id}/revoke`,
      { token: admin() },
    );
    assert.equal(again.status, 404);
    const auditPage = await env.call('GET', '/api/audit?action=token.', { token: admin() });
    assert.deepEqual(
      auditPage.json.items.map(
        (e: { action: string; target: string }) => `${e.action} ${e.target}`,
      ),
      ['token.revoke adam.admin', 'token.issue adam.admin', 'token.issue adam.admin'],
    );
  });

  it('only a channel operator may hold a token that never expires; a year at most otherwise', async () => {
    const never = await env.call('POST', '/api/operators/adam.admin/tokens', {
      token: admin(),
      body: { name: 'forever', neverExpires: true },
    });
    assert.equal(never.status, 400);
    const tooLong = await env.call('POST', '/api/operators/adam.admin/tokens', {
      token: admin(),
      body: { name: 'long', expiresInDays: 366 },
    });
    assert.equal(tooLong.status, 400);
    const channel = await env.call('POST', '/api/operators/bank.app/tokens', {
      token: admin(),
      body: { name: 'app 2', neverExpires: true },
    });
    assert.equal(channel.status, 201);
    assert.equal(channel.json.expiresAt, null);
  });

  it('the CLI issues (--expires), lists and revokes tokens', () => {
    const file = join(processTempDir('ctp-tokens-'), 'config.json');
    writeFileSync(file, JSON.stringify(env.visa.config));
    const cli = (...args: string[]) => runCli(['operators', ...args, '--config', file]);
    const issued = cli(
      'token',
      '--name',
      'vera.viewer',
      '--expires',
      '30d',
      '--token-name',
      'cron',
      '--format',
      'json',
    );
    assert.equal(issued.status, 0, issued.stderr);
    const t = JSON.parse(issued.stdout);
    assert.equal(Math.round((Date.parse(t.expiresAt) - Date.now()) / DAY), 30);
    assert.equal(cli('token', '--name', 'vera.viewer', '--expires', 'never').status, 2);
    assert.equal(cli('token', '--name', 'vera.viewer', '--expires', '400d').status, 2);
    const listed = JSON.parse(cli('tokens', '--name', 'vera.viewer', '--format', 'json').stdout);
    assert.ok(
      listed.some((x: { id: string; state: string }) => x.id === t.id && x.state === 'live'),
    );
    assert.equal(cli('revoke-token', '--name', 'vera.viewer', '--id', t.id).status, 0);
    const after = JSON.parse(cli('tokens', '--name', 'vera.viewer', '--format', 'json').stdout);
    assert.equal(after.find((x: { id: string }) => x.id === t.id).state, 'revoked');
  });
});
