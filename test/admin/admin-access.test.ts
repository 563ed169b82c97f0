import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';

/**
 * What the admin listener's access control promises beyond the route walk: lock-out that holds
 * under concurrency (PCI DSS 8.3.4), every card-number look-up and every page of personal data
 * audited (10.2.1.1), the audit log for administrators only (10.3.1), a malformed cookie taken
 * for none.
 */
describe('admin access: lock-out, audit of reads, cookies', () => {
  let db: TestDatabase;
  let env: AdminTestEnv;

  before(async () => {
    db = await sqliteDialect.create();
    // The harness sets admin.loginMaxFailures to 3.
    env = await startAdminEnv(db.url);
  });
  after(async () => {
    await env?.close();
    await db?.drop();
  });

  const auditOf = async (action: string) =>
    (
      await env.call('GET', `/api/audit?action=${action}&limit=500`, {
        token: env.operators.admin.apiToken,
      })
    ).json.items as {
      actor: string;
      action: string;
      outcome: string;
      detail: Record<string, unknown> | null;
    }[];

  const signIn = (username: string, password: string) => signInStatus(env, username, password);

  it('40 parallel wrong passwords: at most loginMaxFailures are checked, the rest 429', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => signIn('anna.analyst', `wrong-${i}`)),
    );
    const checked = statuses.filter((s) => s === 401).length;
    const refused = statuses.filter((s) => s === 429).length;
    assert.equal(checked + refused, 40, String(statuses));
    assert.equal(checked, 3, `${checked} passwords verified`);
    const failed = (await auditOf('session.login')).filter(
      (e) => e.actor === 'anna.analyst' && e.outcome === 'failed',
    );
    assert.equal(failed.length, 3);
    // The right password inside the window is refused too: the lock is on the name.
    assert.equal(await signIn('anna.analyst', env.operators.analyst.password), 429);
  });

  it('a successful sign-in clears its name and does not count against its address', async () => {
    // 3 per name, 12 per address, 3 already spent above: two names, three rounds each of a wrong
    // guess and a sign-in, stay within the address's allowance only because successes are
    // given back.
    for (const name of ['vera.viewer', 'adam.admin']) {
      const password =
        name === 'vera.viewer' ? env.operators.viewer.password : env.operators.admin.password;
      for (let i = 0; i < 3; i++) {
        assert.equal(await signIn(name, 'wrong'), 401);
        assert.equal(await signIn(name, password), 303);
      }
    }
  });

  it('a malformed session cookie is no cookie: 401, not 500', async () => {
    for (const cookie of [
      'ctp_admin_session=%E0%A4%A',
      'ctp_admin_session=%',
      'ctp_admin_session=%zz; other=1',
    ]) {
      const me = await env.call('GET', '/api/me', { headers: { cookie } });
      assert.equal(me.status, 401, cookie);
      const home = await request(`${env.adminUrl}/`, { headers: { cookie } });
      await home.body.text();
      assert.equal(home.statusCode, 303, cookie);
      assert.equal(home.headers.location, '/login');
    }
  });

  it('every card-number search is audited, a page sent with any cursor included', async () => {
    const before = (await auditOf('notification.search_by_card')).length;
    const forged = Buffer.from(JSON.stringify([Date.now(), 'x'])).toString('base64url');
    const first = await env.call('POST', '/api/notifications/search', {
      token: env.operators.viewer.apiToken,
      body: { pan: '4000 0000 0000 0002' },
    });
    assert.equal(first.status, 200);
    const next = await env.call('POST', '/api/notifications/search', {
      token: env.operators.viewer.apiToken,
      body: { pan: '4000000000000010', cursor: forged },
    });
    assert.equal(next.status, 200);
    const entries = await auditOf('notification.search_by_card');
    assert.equal(entries.length, before + 2);
    assert.deepEqual(
      entries.slice(0, 2).map((e) => [e.actor, e.detail?.last4, e.detail?.page]),
      [
        ['vera.viewer', '0010', 'next'],
        ['vera.viewer', '0002', 'first'],
      ],
    );
  });

  it('each page of the notification list is audited with its size', async () => {
    const before = (await auditOf('notification.list')).length;
    const forged = Buffer.from(JSON.stringify([Date.now(), 'x'])).toString('base64url');
    assert.equal(
      (
        await env.call('GET', '/api/notifications?limit=5', {
          token: env.operators.viewer.apiToken,
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await env.call('GET', `/api/notifications?cursor=${forged}`, {
          token: env.operators.analyst.apiToken,
        })
      ).status,
      200,
    );
    const entries = await auditOf('notification.list');
    assert.equal(entries.length, before + 2);
    assert.deepEqual(
      entries.slice(0, 2).map((e) => [e.actor, e.detail?.page, typeof e.detail?.count]),
      [
        ['anna.analyst', 'next', 'number'],
        ['vera.viewer', 'first', 'number'],
      ],
    );
  });

  it('the audit log needs the admin role', async () => {
    for (const who of ['viewer', 'analyst', 'channel'] as const)
      assert.equal(
        (await env.call('GET', '/api/audit', { token: env.operators[who].apiToken })).status,
        403,
        who,
      );
    assert.equal(
      (await env.call('GET', '/api/audit', { token: env.operators.admin.apiToken })).status,
      200,
    );
    const doc = await env.call('GET', '/api/openapi.json');
    assert.equal(doc.json.paths['/api/audit'].get['x-min-role'], 'admin');
  });
});

describe('admin access: names that differ by case, the Host header, sign-out, tokens', () => {
  let db: TestDatabase;
  let env: AdminTestEnv;

  before(async () => {
    db = await sqliteDialect.create();
    env = await startAdminEnv(db.url, {
      extra: {
        admin: {
          localMfa: 'optional',
          host: '127.0.0.1',
          port: 0,
          loginMaxFailures: 3,
          allowedHosts: ['console.bank.example'],
        },
      },
    });
  });
  after(async () => {
    await env?.close();
    await db?.drop();
  });

  const signIn = (username: string, password: string) => signInStatus(env, username, password);

  it('a sign-in does not reset the lock-out of a name that differs only by case', async () => {
    const upper = await env.call('POST', '/api/operators', {
      token: env.operators.admin.apiToken,
      body: { name: 'Casey', role: 'admin' },
    });
    const lower = await env.call('POST', '/api/operators', {
      token: env.operators.admin.apiToken,
      body: { name: 'casey', role: 'viewer' },
    });
    assert.deepEqual([upper.status, lower.status], [201, 201]);
    assert.equal(await signIn('Casey', 'wrong-1'), 401);
    assert.equal(await signIn('Casey', 'wrong-2'), 401);
    assert.equal(await signIn('casey', lower.json.password), 303);
    assert.equal(await signIn('Casey', 'wrong-3'), 401);
    assert.equal(await signIn('Casey', upper.json.password), 429, 'Casey is locked');
  });

  it('a Host that is neither an address, localhost nor a listed name is refused (421)', async () => {
    const get = async (host: string, path = '/healthz', token?: string) => {
      const res = await request(`${env.adminUrl}${path}`, {
        headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      });
      await res.body.text();
      return res.statusCode;
    };
    const port = new URL(env.adminUrl).port;
    assert.equal(await get(`rebind.attacker.example:${port}`), 421);
    assert.equal(await get('rebind.attacker.example'), 421);
    assert.equal(await get(`rebind.attacker.example:${port}`, '/api/operators'), 421);
    assert.equal(
      await get(`rebind.attacker.example:${port}`, '/api/operators', 'not-a-real-token-0123456789'),
      421,
    );
    // A script with a valid API token may name the listener as it likes (a page cannot know one).
    assert.equal(
      await get(`admin.bank.internal:${port}`, '/api/operators', env.operators.admin.apiToken),
      200,
    );
    assert.equal(await get(`127.0.0.1:${port}`), 200);
    assert.equal(await get(`[::1]:${port}`), 200);
    assert.equal(await get(`localhost:${port}`), 200);
    assert.equal(await get(`CONSOLE.bank.example:${port}`), 200);
  });

  it('a cross-site sign-out (no cookie) clears nothing; a cookie sent twice is none', async () => {
    const res = await request(`${env.adminUrl}/logout`, {
      method: 'POST',
      headers: {
        origin: 'http://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: '',
    });
    await res.body.text();
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers['set-cookie'], undefined);

    const form = await request(`${env.adminUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: env.adminUrl },
      body: new URLSearchParams({
        username: 'vera.viewer',
        password: env.operators.viewer.password,
      }).toString(),
    });
    await form.body.text();
    const cookie = String(form.headers['set-cookie']).split(';')[0]!;
    assert.equal((await env.call('GET', '/api/me', { headers: { cookie } })).status, 200);
    assert.equal(
      (await env.call('GET', '/api/me', { headers: { cookie: `${cookie}; ${cookie}` } })).status,
      401,
    );
  });

  it('a look-up by fingerprint or last digits through the list is audited as one by card', async () => {
    const fingerprint = 'vlw1ufUO3UOwX8bqYiJjk9QD1kud9dNsoSNy8i1vosg';
    for (const q of [`fingerprint=${fingerprint}`, 'last4=0002'])
      assert.equal(
        (await env.call('GET', `/api/notifications?${q}`, { token: env.operators.viewer.apiToken }))
          .status,
        200,
      );
    const entries = (
      await env.call('GET', '/api/audit?action=notification.search_by_card', {
        token: env.operators.admin.apiToken,
      })
    ).json.items as { detail: { last4: string | null; byFingerprint: boolean } }[];
    assert.deepEqual(
      entries.slice(0, 2).map((e) => [e.detail.last4, e.detail.byFingerprint]),
      [
        ['0002', false],
        [null, true],
      ],
    );
  });

  it('an unknown or malformed API token is refused and audited, the token never', async () => {
    const bogus = 'not-a-real-token-0123456789';
    assert.equal((await env.call('GET', '/api/me', { token: bogus })).status, 401);
    assert.equal(
      (await env.call('GET', '/api/me', { headers: { authorization: 'Basic eDp5' } })).status,
      401,
    );
    const audit = await env.call('GET', '/api/audit?action=request.unauthenticated', {
      token: env.operators.admin.apiToken,
    });
    assert.deepEqual(
      audit.json.items.slice(0, 2).map((e: { detail: { reason: string } }) => e.detail.reason),
      ['malformed_authorization', 'unknown_token'],
    );
    assert.ok(!audit.text.includes(bogus));
  });
});

/** Signs in through the form, as a browser of this origin; the status of the answer. */
async function signInStatus(env: AdminTestEnv, username: string, password: string) {
  const res = await request(`${env.adminUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: env.adminUrl },
    body: new URLSearchParams({ username, password }).toString(),
  });
  await res.body.text();
  return res.statusCode;
}
