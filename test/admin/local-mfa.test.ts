import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { request } from 'undici';
import { ConfigError } from '../../src/errors.js';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { runCli } from '../support/cli-process.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { rawSql } from '../support/raw-sql.js';
import { secretEnv } from '../support/secret-env.js';
import { configFor } from '../support/server-harness.js';
import { processTempDir } from '../support/temp-dir.js';
import { testPki } from '../support/test-pki.js';

/** A browser's cookies, enough for the sign-in forms (one host, Path=/). */
class Jar {
  readonly #cookies = new Map<string, string>();
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(setCookie: string | string[] | undefined): void {
    for (const c of [setCookie ?? []].flat()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/.test(c)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
}

/**
 * A second factor for local accounts (TOTP, RFC 6238), codes computed here from the secret the
 * enrolment page shows: enrolment, sign-in, a code used twice, recovery codes, lock-out.
 */
describe('local accounts with a second factor', () => {
  let db: TestDatabase;
  let env: AdminTestEnv;
  let offset = 0;
  let secret = '';
  let recovery: string[] = [];
  const now = () => Date.now() + offset;

  before(async () => {
    db = await sqliteDialect.create();
    env = await startAdminEnv(db.url, {
      now,
      extra: {
        admin: {
          host: '127.0.0.1',
          port: 0,
          loginMaxFailures: 10,
          localMfa: 'required',
          totpKey: secretEnv(randomBytes(32).toString('base64')),
        },
      },
    });
  });
  after(async () => {
    await env?.close();
    await db?.drop();
  });

  const send = async (
    jar: Jar,
    method: 'GET' | 'POST',
    path: string,
    form?: Record<string, string>,
  ) => {
    const res = await request(`${env.adminUrl}${path}`, {
      method,
      headers: {
        cookie: jar.header(),
        origin: env.adminUrl,
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    jar.take(res.headers['set-cookie']);
    return { status: res.statusCode, location: res.headers.location, text: await res.body.text() };
  };
  const password = (jar: Jar) =>
    send(jar, 'POST', '/login', {
      username: 'anna.analyst',
      password: env.operators.analyst.password,
    });
  const codeAt = (t: number) =>
    new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
      timestamp: t,
    });
  const signedIn = async (jar: Jar) => (await send(jar, 'GET', '/api/me')).status === 200;

  it('a local operator enrols at the first sign-in: QR code, a code to prove it, recovery codes once', async () => {
    const jar = new Jar();
    const first = await password(jar);
    assert.deepEqual([first.status, first.location], [303, '/login/mfa']);
    assert.equal(await signedIn(jar), false, 'no session before the code');
    const page = await send(jar, 'GET', '/login/mfa');
    assert.match(page.text, /id="mfa-enrol"/);
    assert.match(page.text, /<svg/);
    secret = /id="totp-secret">([A-Z2-7]+)</.exec(page.text)![1]!;
    const wrong = await send(jar, 'POST', '/login/mfa', { code: '000000' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, new RegExp(secret), 'the same secret is shown again');
    const enrolled = await send(jar, 'POST', '/login/mfa', { code: codeAt(now()) });
    assert.equal(enrolled.status, 200);
    assert.match(enrolled.text, /id="recovery-codes"/);
    recovery = [...enrolled.text.matchAll(/<li><code>([a-z2-9-]+)<\/code><\/li>/g)].map(
      (m) => m[1]!,
    );
    assert.equal(recovery.length, 10);
    assert.equal(await signedIn(jar), true);
    // At rest the secret is encrypted: neither it nor a recovery code is in the database.
    const [row] = await rawSql(env.adminRuntime.store).all<{ totp_secret: Uint8Array }>(
      "SELECT totp_secret FROM operators WHERE name = 'anna.analyst'",
    );
    assert.ok(!Buffer.from(row!.totp_secret).toString('latin1').includes(secret));
    const dump = JSON.stringify(
      await rawSql(env.adminRuntime.store).all('SELECT code_hash FROM operator_recovery_codes'),
    );
    assert.ok(recovery.every((c) => !dump.includes(c)));
  });

  it('signs in with a code; the same code again, or a wrong one, is refused', async () => {
    offset += 30_000; // the enrolment's code step is spent
    const jar = new Jar();
    await password(jar);
    assert.match((await send(jar, 'GET', '/login/mfa')).text, /id="mfa-code"/);
    assert.equal((await send(jar, 'POST', '/login/mfa', { code: '123456' })).status, 401);
    const code = codeAt(now());
    const ok = await send(jar, 'POST', '/login/mfa', { code });
    assert.deepEqual([ok.status, ok.location], [303, '/']);
    assert.equal(await signedIn(jar), true);
    const again = new Jar();
    await password(again);
    const reused = await send(again, 'POST', '/login/mfa', { code });
    assert.equal(reused.status, 401, 'a code is good once');
    assert.equal(await signedIn(again), false);
  });

  it('a recovery code signs in once', async () => {
    const jar = new Jar();
    await password(jar);
    const ok = await send(jar, 'POST', '/login/mfa', { code: recovery[0]! });
    assert.equal(ok.status, 303);
    const again = new Jar();
    await password(again);
    assert.equal((await send(again, 'POST', '/login/mfa', { code: recovery[0]! })).status, 401);
  });

  it('wrong codes lock the account out as wrong passwords do; the right code then waits too', async () => {
    offset += 30_000;
    const jar = new Jar();
    await password(jar);
    let status = 0;
    let tries = 0;
    while (status !== 429 && tries < 20) {
      status = (await send(jar, 'POST', '/login/mfa', { code: '000000' })).status;
      tries++;
    }
    assert.equal(status, 429);
    assert.ok(tries <= 10, `locked out after ${tries} wrong codes`);
    assert.equal((await send(jar, 'POST', '/login/mfa', { code: codeAt(now()) })).status, 429);
    const audit = await rawSql(env.adminRuntime.store).all<{ detail: string }>(
      "SELECT detail FROM audit_log WHERE action = 'session.mfa' ORDER BY seq",
    );
    assert.ok(audit.some((e) => JSON.parse(e.detail).reason === 'rate_limited'));
    assert.ok(
      audit.every((e) => !e.detail.includes('000000')),
      'codes are never recorded',
    );
  });

  it('operators reset-mfa (a lost device) makes the operator enrol again', async () => {
    offset += 31 * 60_000; // past the lock-out
    const file = join(processTempDir('ctp-mfa-'), 'config.json');
    writeFileSync(file, JSON.stringify(env.visa.config));
    const reset = runCli(['operators', 'reset-mfa', '--name', 'anna.analyst', '--config', file]);
    assert.equal(reset.status, 0, reset.stderr);
    const jar = new Jar();
    await password(jar);
    assert.match((await send(jar, 'GET', '/login/mfa')).text, /id="mfa-enrol"/);
  });

  it('localMfa "required" without a TOTP key is refused at start, naming /admin/totpKey', async () => {
    const pki = await testPki();
    assert.throws(
      () =>
        configFor(pki, {
          storageUrl: 'sqlite::memory:',
          extra: { admin: { host: '127.0.0.1', port: 0 } },
        }),
      (e: unknown) => e instanceof ConfigError && e.field === '/admin/totpKey',
    );
  });
});
