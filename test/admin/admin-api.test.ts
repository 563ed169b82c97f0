import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { luhnValid } from '../../src/protect/data-protector.js';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { rawSql } from '../support/raw-sql.js';
import { secretEnv } from '../support/secret-env.js';
import { testPki } from '../support/test-pki.js';
import { waitFor } from '../support/wait-for.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/** The API shows enroller details to operators, but never a full card number. */
function assertNoCardNumber(text: string): void {
  for (const m of text.matchAll(/(?<![0-9])[0-9]{13,19}(?![0-9])/g))
    assert.ok(!luhnValid(m[0]), `card-number-like digits at offset ${m.index}`);
}

const panOf = (p: Record<string, unknown>) =>
  (p.enrollment as { paymentInstrument: { accountNumber: string } }).paymentInstrument
    .accountNumber;

/** Signs in through the form; returns the session cookie and the CSRF token. */
async function signIn(env: AdminTestEnv, username: string, password: string) {
  const res = await request(`${env.adminUrl}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: env.adminUrl },
    body: new URLSearchParams({ username, password }).toString(),
  });
  await res.body.text();
  const setCookie = String(res.headers['set-cookie'] ?? '');
  const cookie = setCookie.split(';')[0]!;
  const me = cookie ? await env.call('GET', '/api/me', { headers: { cookie } }) : undefined;
  return {
    status: res.statusCode,
    setCookie,
    cookie,
    csrf: me?.json?.csrfToken as string | undefined,
  };
}

for (const dialect of await dialects()) {
  describe(`admin API on ${dialect.name}`, () => {
    let db: TestDatabase;
    let env: AdminTestEnv;
    let acceptedPan: string;
    let acceptedId: string;
    let quarantinedId: string;
    // The bank's core system is down at first: one attempt, then the dead-letter queue.
    const rx = new WebhookReceiver();
    let coreDown = true;

    before(async () => {
      await rx.start();
      rx.respond = (req) => ({ status: req.path === '/core' && coreDown ? 503 : 204 });
      db = await dialect.create();
      const whsec = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
      env = await startAdminEnv(db.url, {
        sinks: [
          {
            name: 'core',
            type: 'webhook',
            url: `${rx.url}/core`,
            secrets: [secretEnv(whsec)],
            timeoutMs: 2000,
            retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 1 },
          },
          {
            name: 'fraud-ops',
            type: 'webhook',
            url: `${rx.url}/fraud-ops`,
            secrets: [secretEnv(whsec)],
            timeoutMs: 2000,
          },
        ],
      });
      const accepted = enrollmentPayload();
      acceptedPan = panOf(accepted);
      assert.equal(
        (await env.visa.post({ encryptedData: await env.visa.encode(accepted) })).status,
        200,
      );
      // Encrypted to the second issuer key, which Visa's listener lacks: quarantined
      // (JWE_KID_UNKNOWN; answered 500 so that Visa retries).
      assert.equal(
        (
          await env.visa.post({
            encryptedData: await env.visa.encode(enrollmentPayload(), { encryptTo: 'second' }),
          })
        ).status,
        500,
      );
      const q = await env.call('GET', '/api/notifications?status=quarantined', {
        token: env.operators.viewer.apiToken,
      });
      quarantinedId = q.json.items[0].id;
      acceptedId = (
        await env.call('GET', '/api/notifications?status=accepted', {
          token: env.operators.viewer.apiToken,
        })
      ).json.items[0].id;
    });
    after(async () => {
      await env.close();
      await rx.close();
      await db.drop();
    });

    it("risk: each item carries its assessment; the risk filter and the overview's risk mix", async () => {
      const viewer = env.operators.viewer.apiToken;
      // No cardholder imported: the card is unknown to the bank, so the attempt is high risk.
      const item = await waitFor('the assessment', async () => {
        const d = await env.call('GET', `/api/notifications/${acceptedId}`, { token: viewer });
        return d.json.risk ? d.json : undefined;
      });
      assert.equal(item.risk.level, 'high');
      assert.ok(item.risk.reasons.some((r: { code: string }) => r.code === 'CARD_UNKNOWN'));
      const high = await env.call('GET', '/api/notifications?risk=high', { token: viewer });
      assert.ok(high.json.items.some((n: { id: string }) => n.id === acceptedId));
      assert.ok(high.json.items.every((n: { risk: { level: string } }) => n.risk.level === 'high'));
      assert.equal(
        (await env.call('GET', '/api/notifications?risk=low', { token: viewer })).json.items.length,
        0,
      );
      assert.equal(
        (await env.call('GET', '/api/notifications?risk=severe', { token: viewer })).status,
        400,
      );
      const stats = await env.call('GET', '/api/stats', { token: viewer });
      assert.ok(stats.json.risk.high >= 1);
      assert.match(
        (await env.call('GET', '/metrics')).text,
        /^ctp_notify_risk_assessments_total\{level="high"\} [1-9]/m,
      );
    });

    it('deliveries: the dead-letter queue, retry by an analyst (not a viewer), sink switches by an admin, replay', async () => {
      const viewer = env.operators.viewer.apiToken;
      const dead = async () =>
        (
          await env.call(
            'GET',
            `/api/deliveries?status=dead&sink=core&notificationId=${acceptedId}`,
            { token: viewer },
          )
        ).json.items;
      await waitFor('the dead letter', async () => (await dead()).length === 1);
      const [d] = await dead();
      assert.equal(d.lastError, 'HTTP_503');
      assert.equal(d.lastStatus, 503);
      const sinks = (await env.call('GET', '/api/sinks', { token: viewer })).json.items;
      const core = sinks.find((x: { name: string }) => x.name === 'core');
      assert.equal(core.counts.dead, 1);
      assert.equal(core.target, `${rx.url}/core`);
      assert.match(
        (await env.call('GET', '/metrics')).text,
        /^ctp_notify_deliveries_total\{sink="core",result="dead"\} [1-9]/m,
      );

      assert.equal(
        (await env.call('POST', `/api/deliveries/${d.id}/retry`, { token: viewer })).status,
        403,
      );
      coreDown = false;
      const retried = await env.call('POST', `/api/deliveries/${d.id}/retry`, {
        token: env.operators.analyst.apiToken,
      });
      assert.equal(retried.status, 200);
      assert.equal(retried.json.retried, 1);
      await waitFor(
        'the retried delivery',
        async () =>
          (
            await env.call(
              'GET',
              `/api/deliveries?status=delivered&sink=core&notificationId=${acceptedId}`,
              { token: viewer },
            )
          ).json.items.length === 1,
      );
      assert.equal(
        (
          await env.call('POST', `/api/deliveries/${d.id}/retry`, {
            token: env.operators.analyst.apiToken,
          })
        ).status,
        409,
        'delivered: nothing to retry',
      );

      assert.equal(
        (
          await env.call('POST', '/api/sinks/core/disable', {
            token: env.operators.analyst.apiToken,
            body: {},
          })
        ).status,
        403,
      );
      assert.equal(
        (
          await env.call('POST', '/api/sinks/core/disable', {
            token: env.operators.admin.apiToken,
            body: { reason: 'maintenance window' },
          })
        ).status,
        200,
      );
      assert.ok(
        (await env.call('GET', '/api/sinks', { token: viewer })).json.items.find(
          (x: { name: string }) => x.name === 'core',
        ).disabledAt,
      );
      const replay = await env.call('POST', '/api/sinks/core/replay', {
        token: env.operators.analyst.apiToken,
        body: { since: new Date(Date.now() - 3600_000).toISOString() },
      });
      assert.equal(replay.status, 200);
      assert.ok(replay.json.queued >= 1);
      // Disabled: the replayed delivery waits, counted by the pending gauge.
      assert.match(
        (await env.call('GET', '/metrics')).text,
        /^ctp_notify_outbox_pending\{sink="core"\} [1-9]/m,
      );
      assert.equal(
        (await env.call('POST', '/api/sinks/core/enable', { token: env.operators.admin.apiToken }))
          .status,
        200,
      );
      assert.equal(
        (await env.call('POST', '/api/sinks/nope/enable', { token: env.operators.admin.apiToken }))
          .status,
        404,
      );
      await waitFor('an empty queue', async () =>
        (await env.call('GET', '/api/sinks', { token: viewer })).json.items.every(
          (x: { counts: { pending: number; failed: number } }) =>
            x.counts.pending + x.counts.failed === 0,
        ),
      );
      const actions = (
        await env.call('GET', '/api/audit', { token: env.operators.admin.apiToken })
      ).json.items.map(
        (e: { actor: string; action: string; outcome: string }) =>
          `${e.actor} ${e.action} ${e.outcome}`,
      );
      for (const a of [
        'anna.analyst delivery.retry ok',
        'adam.admin sink.disable ok',
        'anna.analyst sink.replay ok',
        'adam.admin sink.enable ok',
        'vera.viewer request.forbidden denied',
      ]) {
        assert.ok(actions.includes(a), a);
      }
    });

    it('401 without credentials or with an unknown token; health endpoints are open', async () => {
      assert.equal((await env.call('GET', '/api/notifications')).status, 401);
      assert.equal(
        (await env.call('GET', '/api/notifications', { token: 'ctpa_not-a-real-token-at-all' }))
          .status,
        401,
      );
      assert.equal((await env.call('GET', '/healthz')).status, 200);
      assert.equal((await env.call('GET', '/readyz')).status, 200);
    });

    it('lists with filters and a cursor, and never returns the full card number', async () => {
      const t = env.operators.viewer.apiToken;
      const all = await env.call('GET', '/api/notifications?limit=1', { token: t });
      assert.equal(all.status, 200);
      assert.equal(all.json.items.length, 1);
      assert.equal(typeof all.json.next, 'string');
      const page2 = await env.call('GET', `/api/notifications?limit=1&cursor=${all.json.next}`, {
        token: t,
      });
      assert.equal(page2.json.items.length, 1);
      assert.notEqual(page2.json.items[0].id, all.json.items[0].id);
      assert.equal(page2.json.next, null);
      const byLast4 = await env.call('GET', `/api/notifications?last4=${acceptedPan.slice(-4)}`, {
        token: t,
      });
      assert.deepEqual(
        byLast4.json.items.map((n: { status: string }) => n.status),
        ['accepted'],
      );
      assert.equal(
        byLast4.json.items[0].maskedPan,
        `${acceptedPan.slice(0, 6)}…${acceptedPan.slice(-4)}`,
      );
      const future = await env.call(
        'GET',
        `/api/notifications?from=${new Date(Date.now() + 3600_000).toISOString()}`,
        { token: t },
      );
      assert.equal(future.json.items.length, 0);
      assert.equal(
        (await env.call('GET', '/api/notifications?last4=12x4', { token: t })).status,
        400,
      );
      assert.equal(
        (await env.call('GET', '/api/notifications?cursor=bogus', { token: t })).status,
        400,
      );
      assertNoCardNumber(all.text + page2.text + byLast4.text);
    });

    it('finds notifications by a typed card number, audits the search without the number, logs nothing of it', async () => {
      const res = await env.call('POST', '/api/notifications/search', {
        token: env.operators.viewer.apiToken,
        body: { pan: acceptedPan.replace(/(\d{4})/g, '$1 ').trim() },
      });
      assert.equal(res.status, 200);
      assert.equal(res.json.items.length, 1);
      assert.equal(res.json.items[0].panLast4, acceptedPan.slice(-4));
      const none = await env.call('POST', '/api/notifications/search', {
        token: env.operators.viewer.apiToken,
        body: { pan: '4000000000000002' },
      });
      assert.equal(none.json.items.length, 0);
      const audit = await env.call('GET', '/api/audit?action=notification.search_by_card', {
        token: env.operators.admin.apiToken,
      });
      assert.equal(audit.json.items[0].detail.last4, '0002');
      assert.ok(!audit.text.includes(acceptedPan));
      assert.ok(!env.adminLogs.join('\n').includes(acceptedPan));
      const rows = await rawSql(env.adminRuntime.store).all('SELECT * FROM audit_log');
      assert.ok(!JSON.stringify(rows).includes(acceptedPan), 'the card number is not stored');
    });

    it('a viewer cannot reprocess (403, audited); an analyst can, and the notification becomes accepted', async () => {
      const denied = await env.call('POST', `/api/notifications/${quarantinedId}/reprocess`, {
        token: env.operators.viewer.apiToken,
      });
      assert.equal(denied.status, 403);
      assert.equal(denied.json.error.code, 'FORBIDDEN');
      const ok = await env.call('POST', `/api/notifications/${quarantinedId}/reprocess`, {
        token: env.operators.analyst.apiToken,
      });
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.json, { id: quarantinedId, status: 'accepted', reason: null });
      const again = await env.call('POST', `/api/notifications/${quarantinedId}/reprocess`, {
        token: env.operators.analyst.apiToken,
      });
      assert.equal(again.status, 409);
      const detail = await env.call('GET', `/api/notifications/${quarantinedId}`, {
        token: env.operators.viewer.apiToken,
      });
      assert.equal(detail.json.status, 'accepted');
      assert.equal(detail.json.jweKid, 'issuer-enc-2027');
      const audit = await env.call('GET', '/api/audit', { token: env.operators.admin.apiToken });
      const actions = audit.json.items.map(
        (e: { actor: string; action: string; outcome: string }) =>
          `${e.actor} ${e.action} ${e.outcome}`,
      );
      assert.ok(actions.includes('anna.analyst notification.reprocess ok'));
      assert.ok(actions.includes('vera.viewer request.forbidden denied'));
      assert.ok(actions.includes('vera.viewer notification.view ok'));
    });

    it("operators: only an admin adds or disables; a disabled operator's token stops working", async () => {
      assert.equal(
        (await env.call('GET', '/api/operators', { token: env.operators.analyst.apiToken })).status,
        403,
      );
      assert.equal(
        (
          await env.call('POST', '/api/operators', {
            token: env.operators.analyst.apiToken,
            body: { name: 'x', role: 'admin' },
          })
        ).status,
        403,
      );
      const made = await env.call('POST', '/api/operators', {
        token: env.operators.admin.apiToken,
        body: { name: 'temp.viewer', role: 'viewer' },
      });
      assert.equal(made.status, 201);
      assert.deepEqual(Object.keys(made.json).sort(), [
        'allIssuers',
        'apiToken',
        'issuers',
        'name',
        'password',
        'role',
      ]);
      assert.equal((await env.call('GET', '/api/keys', { token: made.json.apiToken })).status, 200);
      assert.equal(
        (
          await env.call('POST', '/api/operators', {
            token: env.operators.admin.apiToken,
            body: { name: 'temp.viewer', role: 'viewer' },
          })
        ).status,
        409,
      );
      assert.equal(
        (
          await env.call('POST', '/api/operators/temp.viewer/disable', {
            token: env.operators.admin.apiToken,
          })
        ).status,
        200,
      );
      assert.equal((await env.call('GET', '/api/keys', { token: made.json.apiToken })).status, 401);
      const stored = await rawSql(env.adminRuntime.store).all<{
        password_hash: string;
        token_hash: string;
      }>('SELECT password_hash, token_hash FROM operators');
      const text = JSON.stringify(stored);
      assert.ok(
        !text.includes(made.json.password) && !text.includes(made.json.apiToken),
        'only hashes are stored',
      );
      assert.ok(stored.every((r) => r.password_hash.startsWith('scrypt$')));
    });

    it('console sign-in: HttpOnly SameSite=Strict cookie; writes need the CSRF token and same origin', async () => {
      const bad = await signIn(env, 'anna.analyst', 'wrong password');
      assert.equal(bad.status, 401);
      assert.equal(bad.setCookie, '');
      const s = await signIn(env, 'anna.analyst', env.operators.analyst.password);
      assert.equal(s.status, 303);
      assert.match(s.setCookie, /HttpOnly/);
      assert.match(s.setCookie, /SameSite=Strict/);
      assert.ok(s.csrf);
      const post = (headers: Record<string, string>) =>
        env.call('POST', `/api/notifications/${quarantinedId}/reprocess`, {
          headers: { cookie: s.cookie, ...headers },
        });
      assert.equal((await post({})).json.error.code, 'CSRF_FAILED');
      assert.equal((await post({ 'x-csrf-token': 'wrong' })).status, 403);
      assert.equal(
        (await post({ 'x-csrf-token': s.csrf!, origin: 'https://evil.example' })).status,
        403,
      );
      // Right token, same origin: passes the CSRF gate (409: it was reprocessed above).
      assert.equal((await post({ 'x-csrf-token': s.csrf!, origin: env.adminUrl })).status, 409);
      const page = await request(`${env.adminUrl}/`, { headers: { cookie: s.cookie } });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
      await page.body.text();
      const out = await request(`${env.adminUrl}/logout`, {
        method: 'POST',
        headers: { cookie: s.cookie, 'x-csrf-token': s.csrf!, origin: env.adminUrl },
      });
      await out.body.text();
      assert.equal(
        (await env.call('GET', '/api/me', { headers: { cookie: s.cookie } })).status,
        401,
      );
    });

    it('failed sign-ins are rate-limited per user name, even with the right password afterwards', async () => {
      for (let i = 0; i < 3; i++)
        assert.equal((await signIn(env, 'adam.admin', `guess-${i}`)).status, 401);
      const locked = await signIn(env, 'adam.admin', env.operators.admin.password);
      assert.equal(locked.status, 429);
      assert.equal(locked.cookie, '');
    });

    it('the audit log is append-only in the database itself', async () => {
      const sql = rawSql(env.adminRuntime.store);
      await assert.rejects(sql.run("UPDATE audit_log SET actor = 'someone else'"));
      await assert.rejects(sql.run('DELETE FROM audit_log'));
      const [n] = await sql.all<{ n: number }>('SELECT COUNT(*) AS n FROM audit_log');
      assert.ok(Number(n!.n) > 5);
    });

    it('keys with expiry; metrics; the OpenAPI document lists every endpoint', async () => {
      const keys = await env.call('GET', '/api/keys', { token: env.operators.viewer.apiToken });
      const byId = new Map(keys.json.items.map((k: { id: string }) => [k.id, k]));
      assert.equal((byId.get('issuer-enc-2026') as { status: string }).status, 'ok');
      assert.equal((byId.get('issuer-enc-2027') as { status: string }).status, 'unknown');
      assert.equal((byId.get('715EA257') as { use: string }).use, 'verification');
      const issuer = byId.get('issuer-enc-2026') as { location: string; where: string };
      assert.equal(issuer.location, 'file');
      assert.match(issuer.where, /\.pem$/, 'where it is: the path, not the key');
      for (const k of keys.json.items as { location: string }[])
        assert.ok(['file', 'env', 'token', 'wrapped'].includes(k.location));
      const metrics = await env.call('GET', '/metrics');
      for (const name of [
        'ctp_notify_requests_total',
        'ctp_notify_request_duration_seconds_bucket',
        'ctp_notify_quarantined_total',
        'ctp_notify_key_expiry_days',
        'process_cpu_user_seconds_total',
      ]) {
        assert.ok(metrics.text.includes(name), name);
      }
      assert.match(
        metrics.text,
        /ctp_notify_requests_total\{outcome="quarantined",status="500",issuer="default"\} [1-9]/,
      );
      const doc = await env.call('GET', '/api/openapi.json');
      assert.equal(doc.json.openapi, '3.1.0');
      for (const p of [
        '/api/notifications',
        '/api/notifications/search',
        '/api/notifications/{id}',
        '/api/notifications/{id}/reprocess',
        '/api/keys',
        '/api/audit',
        '/api/operators',
      ]) {
        assert.ok(doc.json.paths[p], p);
      }
      assert.equal(
        doc.json.paths['/api/notifications/{id}/reprocess'].post['x-min-role'],
        'analyst',
      );
    });
  });
}

describe('key expiry warning', () => {
  it('flags a certificate as expiring within 30 days, and expired after', async () => {
    const [sqlite] = await dialects();
    const db = await sqlite!.create();
    let now = Date.now() + 710 * 86_400_000;
    const env = await startAdminEnv(db.url, { now: () => now });
    try {
      const status = async () => {
        const keys = await env.call('GET', '/api/keys', { token: env.operators.viewer.apiToken });
        return keys.json.items.find((k: { id: string }) => k.id === 'issuer-enc-2026').status;
      };
      assert.equal(await status(), 'expiring');
      now += 40 * 86_400_000;
      assert.equal(await status(), 'expired');
    } finally {
      await env.close();
      await db.drop();
    }
  });
});

describe('admin listener over TLS', () => {
  it('serves HTTPS with its own certificate; the session cookie is Secure and __Host- prefixed', async () => {
    const [sqlite] = await dialects();
    const db = await sqlite!.create();
    const pki = await testPki();
    const env = await startAdminEnv(db.url, {
      extra: {
        admin: {
          localMfa: 'optional',
          host: '127.0.0.1',
          port: 0,
          tls: { cert: pki.files.serverCert, key: pki.files.serverKey },
        },
      },
    });
    const agent = new Agent({ connect: { ca: readFileSync(pki.files.caCert) } });
    try {
      const base = env.adminUrl;
      assert.match(base, /^https:/);
      const res = await request(`${base}/login`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
        body: new URLSearchParams({
          username: 'vera.viewer',
          password: env.operators.viewer.password,
        }).toString(),
      });
      await res.body.text();
      assert.equal(res.statusCode, 303);
      const cookie = String(res.headers['set-cookie']);
      assert.match(cookie, /^__Host-ctp_admin_session=/);
      assert.match(cookie, /; Secure/);
      assert.match(cookie, /; Path=\//);
      const keys = await request(`${base}/api/keys`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${env.operators.viewer.apiToken}` },
      });
      assert.equal(keys.statusCode, 200);
      await keys.body.text();
    } finally {
      await agent.close();
      await env.close();
      await db.drop();
    }
  });
});
