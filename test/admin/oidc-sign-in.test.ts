import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { createLogger } from '../../src/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { launchBrowser } from '../support/browser.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/free-port.js';
import { registerSensitive } from '../support/personal-data.js';
import { rawSql } from '../support/raw-sql.js';
import { secretEnv } from '../support/secret-env.js';
import { capturedLogs, configFor } from '../support/server-harness.js';
import {
  CLIENT_ID,
  TestIdentityProvider,
  type TestUser,
} from '../support/test-identity-provider.js';
import { testPki } from '../support/test-pki.js';

/**
 * Single sign-on against a real OpenID Provider on loopback, in Chromium: the console's
 * `/auth/login` and `/auth/callback` with the provider between them.
 */

const CLIENT_SECRET = 'oidc-client-secret-for-the-console-0123456789';
const SESSION_MINUTES = 5;

const browser: Browser | undefined = await launchBrowser();

describe('console sign-in through the identity provider', { skip: !browser }, () => {
  let db: TestDatabase;
  let idp: TestIdentityProvider;
  let runtime: Runtime;
  let admin: FastifyInstance;
  let adminUrl: string;
  let offsetMs = 0;
  const users: Record<string, TestUser> = {
    ana: {
      sub: 'u-ana',
      username: 'ana',
      email: 'ana@bank.example',
      groups: ['ctp-analysts'],
      amr: ['pwd', 'otp'],
    },
    bob: {
      sub: 'u-bob',
      username: 'bob',
      email: 'bob@bank.example',
      groups: ['ctp-admins'],
      amr: ['pwd'],
    },
  };

  before(async () => {
    registerSensitive(CLIENT_SECRET);
    db = await sqliteDialect.create();
    const port = await freePort();
    adminUrl = `http://127.0.0.1:${port}`;
    idp = await new TestIdentityProvider().start(`${adminUrl}/auth/callback`, CLIENT_SECRET);
    for (const u of Object.values(users)) idp.users.set(u.sub, u);
    const pki = await testPki();
    const config = configFor(pki, {
      storageUrl: db.url,
      extra: {
        admin: {
          localMfa: 'optional',
          host: '127.0.0.1',
          port,
          sessionIdleMinutes: 30,
          oidc: {
            issuer: idp.url,
            clientId: CLIENT_ID,
            clientSecret: secretEnv(CLIENT_SECRET),
            redirectUri: `${adminUrl}/auth/callback`,
            scopes: ['openid', 'profile', 'email', 'groups'],
            requireMfa: true,
            sessionMinutes: SESSION_MINUTES,
            groups: [
              { group: 'ctp-analysts', role: 'analyst', issuers: ['default'] },
              { group: 'ctp-admins', role: 'admin', allIssuers: true },
            ],
          },
        },
      },
    });
    const logger = createLogger('info', { write: (line: string) => capturedLogs.push(line) });
    runtime = await createRuntime(config, logger);
    admin = await buildAdminApp({
      config,
      secrets: runtime.secrets,
      store: runtime.store,
      outbox: runtime.outbox,
      pipelines: runtime.pipelines,
      logger,
      now: () => Date.now() + offsetMs,
    });
    await admin.listen({ host: '127.0.0.1', port });
  });
  after(async () => {
    await browser?.close();
    await admin?.close();
    await runtime?.close();
    await idp?.close();
    await db?.drop();
  });

  /** A fresh browser (no provider session), signing in as `who` through the console's button. */
  async function signIn(
    who: string,
  ): Promise<{ context: BrowserContext; page: Page; callback: Promise<Response> }> {
    idp.signInAs = users[who]!.sub;
    const context = await browser!.newContext();
    const page = await context.newPage();
    await page.goto(`${adminUrl}/login`);
    // Waited for from before the click: the redirects may all be over when it returns.
    const callback = page.waitForResponse((r) => r.url().startsWith(`${adminUrl}/auth/callback`));
    callback.catch(() => {});
    await page.click('#sso');
    return { context, page, callback };
  }
  const me = (page: Page) =>
    page.evaluate(async () => {
      const r = await fetch('/api/me');
      return { status: r.status, body: r.status === 200 ? await r.json() : null };
    }) as Promise<{
      status: number;
      body: { role: string; source: string; allIssuers: boolean; issuers: string[] } | null;
    }>;
  /**
   * Changes the authorization request `/auth/login` sends the browser to (a route sees only the
   * first request of a redirect chain, so the redirect itself is rewritten).
   */
  const tamperAuthorization = (page: Page, change: (url: URL) => Promise<void>) =>
    page.route(`${adminUrl}/auth/login`, async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      const url = new URL(response.headers().location!);
      await change(url);
      return route.fulfill({ response, headers: { ...response.headers(), location: url.href } });
    });
  const auditOf = async (action: string) =>
    rawSql(runtime.store).all<{ actor: string; outcome: string; detail: string | null }>(
      'SELECT actor, outcome, detail FROM audit_log WHERE action = ? ORDER BY seq',
      [action],
    );

  it('lands in the console with the role and issuers its group maps to', async () => {
    const { context, page, callback: answered } = await signIn('ana');
    const callback = await answered;
    assert.equal(callback.status(), 302, 'the callback: 302 to the console with the cookie');
    assert.match((await callback.allHeaders())['set-cookie'] ?? '', /ctp_admin_session=/);
    // The console's own content: the operator's name in the sidebar.
    await page.waitForSelector('.who-name');
    assert.equal(await page.textContent('.who-name'), 'ana');
    const m = await me(page);
    assert.equal(m.status, 200);
    assert.deepEqual(
      [m.body?.role, m.body?.source, m.body?.allIssuers, m.body?.issuers],
      ['analyst', 'oidc', false, ['default']],
    );
    const provisioned = await auditOf('operator.provisioned');
    assert.deepEqual(
      provisioned.map((e) => JSON.parse(e.detail!)),
      [{ role: 'analyst', issuers: ['default'] }],
    );
    const logins = (await auditOf('session.login')).filter((e) => e.outcome === 'ok');
    assert.deepEqual(
      logins.map((e) => [e.actor, JSON.parse(e.detail!).via]),
      [['ana', 'oidc']],
    );
    // A local password cannot sign this operator in.
    const local = await page.request.post(`${adminUrl}/login`, {
      form: { username: 'ana', password: 'anything' },
      headers: { origin: adminUrl },
      maxRedirects: 0,
    });
    assert.equal(local.status(), 401);
    await context.close();
  });

  it('a sign-in without a second factor is refused when requireMfa', async () => {
    const { context, page } = await signIn('bob');
    await page.waitForSelector('.alert-error');
    assert.match((await page.textContent('.alert-error')) ?? '', /second factor/);
    assert.equal((await me(page)).status, 401);
    const refused = (await auditOf('session.login')).map(
      (e) => JSON.parse(e.detail ?? '{}').reason,
    );
    assert.ok(refused.includes('mfa_required'));
    await context.close();
  });

  it('a user taken out of the group loses access when the session comes back to the provider', async () => {
    const { context, page } = await signIn('ana');
    await page.waitForSelector('.who-name');
    users.ana!.groups = [];
    assert.equal((await me(page)).status, 200, 'still inside the session');
    offsetMs += (SESSION_MINUTES + 1) * 60_000;
    assert.equal((await me(page)).status, 401, 'the session went back to the provider');
    await page.goto(`${adminUrl}/login`);
    await page.click('#sso');
    await page.waitForSelector('.alert-error');
    assert.match((await page.textContent('.alert-error')) ?? '', /not in a group/);
    users.ana!.groups = ['ctp-analysts'];
    await context.close();
  });

  it('a replayed callback and a tampered state are refused', async () => {
    idp.signInAs = users.ana!.sub;
    const context = await browser!.newContext();
    const page = await context.newPage();
    let callback = '';
    page.on('request', (r) => {
      if (r.url().startsWith(`${adminUrl}/auth/callback`)) callback = r.url();
    });
    await page.goto(`${adminUrl}/auth/login`);
    await page.waitForSelector('.who-name');
    assert.ok(callback.includes('code='));
    // The same code and state again, from the same browser (cookie included).
    await page.goto(callback);
    await page.waitForSelector('.alert-error');
    assert.match((await page.textContent('.alert-error')) ?? '', /already used|did not start here/);

    // A state that is not this browser's: the provider sends back what it was given.
    await tamperAuthorization(page, async (url) => url.searchParams.set('state', 'x'.repeat(43)));
    await page.goto(`${adminUrl}/auth/login`);
    await page.waitForSelector('.alert-error');
    assert.match((await page.textContent('.alert-error')) ?? '', /did not start here/);
    await context.close();
    const reasons = (await auditOf('session.login')).map(
      (e) => JSON.parse(e.detail ?? '{}').reason,
    );
    assert.ok(reasons.includes('sign_in_unknown') || reasons.includes('state_mismatch'));
    assert.ok(reasons.includes('state_mismatch'));
  });

  it('an ID token with another nonce, a code made for another client, or an expired ID token is refused', async () => {
    for (const tamper of ['nonce', 'client'] as const) {
      idp.signInAs = users.ana!.sub;
      const context = await browser!.newContext();
      const page = await context.newPage();
      await tamperAuthorization(page, async (url) => {
        if (tamper === 'nonce')
          await rawSql(runtime.store).run("UPDATE oidc_logins SET nonce = 'not-the-one-sent'");
        else url.searchParams.set('client_id', 'other-app');
      });
      await page.goto(`${adminUrl}/auth/login`);
      await page.waitForSelector('.alert-error');
      assert.match((await page.textContent('.alert-error')) ?? '', /could not be verified/, tamper);
      assert.equal((await me(page)).status, 401, tamper);
      await context.close();
    }
    // An ID token whose exp has passed by the service's clock (two hours on: the provider's
    // tokens live one).
    offsetMs += 2 * 3_600_000;
    try {
      const { context, page } = await signIn('ana');
      await page.waitForSelector('.alert-error');
      assert.match((await page.textContent('.alert-error')) ?? '', /could not be verified/, 'exp');
      assert.equal((await me(page)).status, 401, 'exp');
      await context.close();
    } finally {
      offsetMs -= 2 * 3_600_000;
    }
    const codes = (await auditOf('session.login'))
      .map((e) => JSON.parse(e.detail ?? '{}'))
      .filter((d) => d.reason === 'token_refused');
    assert.equal(codes.length, 3);
    assert.ok(
      codes.some((d) => /CLAIM|TIMESTAMP|EXP/i.test(String(d.code))),
      JSON.stringify(codes.map((d) => d.code)),
    );
  });
});
