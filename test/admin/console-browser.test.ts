import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Config } from '../../src/config/config-schema.js';
import { soleIssuerKeys } from '../../src/keys/load-secrets.js';
import { NotificationPipeline } from '../../src/pipeline/notification-pipeline.js';
import { luhnValid } from '../../src/protect/data-protector.js';
import { sealCardholder } from '../../src/risk/directory/cardholder-codec.js';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { launchBrowser, SCREENSHOTS } from '../support/browser.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { secretEnv } from '../support/secret-env.js';
import { TRID } from '../support/server-harness.js';
import { waitFor } from '../support/wait-for.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

// Evaluated inside the page by playwright.
declare const document: { querySelectorAll(selector: string): { length: number } };

const NAMES = [
  ['Amelie', 'Dubois'],
  ['Jonas', 'Becker'],
  ['Sofia', 'Rossi'],
  ['Liam', "O'Connor"],
  ['Mei', 'Tanaka'],
  ['Lucas', 'Martin'],
  ['Olivia', 'Smith'],
  ['Noah', 'Müller'],
  ['Ava', 'García'],
  ['Elias', 'Novak'],
  ['Zoe', 'Laurent'],
  ['Omar', 'Haddad'],
] as const;
const pans: string[] = [];

/**
 * A day of realistic traffic: Visa-side encoded messages through the real pipeline, with receive
 * times spread over the last 24 hours (the HTTP route always stamps "now"). Some are encrypted to
 * a key the service lacks (quarantined), one is malformed inside (quarantined for good).
 */
async function seed(env: AdminTestEnv): Promise<void> {
  const rt = env.visa.runtime;
  const risk = rt.risk!;
  const dp = soleIssuerKeys(rt.secrets).dataProtector;
  const cfg: Config = env.visa.config;
  const now = Date.now();
  const accepted: string[] = [];
  let i = 0;
  for (let h = 23; h >= 0; h--) {
    const perHour = 1 + ((h * 7) % 5) + (h < 10 && h > 5 ? 3 : 0);
    for (let k = 0; k < perHour; k++) {
      const [firstName, lastName] = NAMES[i % NAMES.length]!;
      const contactEmail = `${firstName.toLowerCase()}.${i}@example.org`;
      const payload = enrollmentPayload({
        clientInformation: { firstName, lastName, contactEmail },
      });
      const pan = (payload.enrollment as { paymentInstrument: { accountNumber: string } })
        .paymentInstrument.accountNumber;
      const phone = (payload.clientInformation as { phoneNumber: string }).phoneNumber;
      pans.push(pan);
      // The bank's directory: most enrollers are the cardholder; some are strangers (another
      // name and contact on file), some changed email and phone, a few cards are unknown to the
      // bank.
      const kind =
        i % 11 === 3
          ? 'stranger'
          : i % 7 === 2
            ? 'new-contact'
            : i % 17 === 9
              ? 'unknown'
              : 'cardholder';
      if (kind !== 'unknown') {
        const holder =
          kind === 'stranger'
            ? {
                firstName: 'Margaret',
                lastName: 'Whitfield',
                emails: [`m.whitfield.${i}@example.net`],
                phones: ['+441632960001'],
              }
            : kind === 'new-contact'
              ? { firstName, lastName, emails: [`old.${i}@example.net`], phones: ['+441632960999'] }
              : { firstName, lastName, emails: [contactEmail], phones: [phone] };
        await risk.stores.cardholders.upsert([
          sealCardholder(dp, dp.fingerprint(pan), { ...holder, status: 'active', language: 'en' }),
        ]);
      }
      const quarantine = i % 13 === 5;
      const at = now - h * 3_600_000 - k * 97_000;
      const pipeline = new NotificationPipeline({
        issuer: 'default',
        store: rt.store,
        verificationKeys: rt.secrets.verificationKeys,
        decryptionKeys: soleIssuerKeys(rt.secrets).decryptionKeys,
        dataProtector: dp,
        jose: cfg.jose,
        requireClientCertificate: false,
        now: () => at,
      });
      const body = Buffer.from(
        JSON.stringify({
          encryptedData: await env.visa.encode(payload, quarantine ? { encryptTo: 'second' } : {}),
        }),
      );
      const path = `vtis/v1/tokenRequestors/${TRID}/cardEnrollment/notification`;
      const out = await pipeline.handle({
        tokenRequestorId: TRID,
        eventType: 'CTP_ENROLLMENT_ATTEMPT',
        resourcePath: path,
        queryString: 'eventType=CTP_ENROLLMENT_ATTEMPT',
        contentType: 'application/json',
        body,
        clientCertificate: undefined,
        xPayToken: undefined,
      });
      assert.equal(out.kind, quarantine ? 'quarantined' : 'accepted');
      if (out.kind === 'accepted') accepted.push(out.id);
      i++;
    }
  }
  for (const id of accepted) risk.service.schedule(id);
  await risk.service.idle();
  // Authentic but unusable content: stays quarantined whatever key is installed.
  const bad = await env.visa.encode({
    clientInformation: { firstName: 'X' },
    enrollment: { paymentInstrument: {} },
  });
  assert.equal((await env.visa.post({ encryptedData: bad })).status, 400);
}

/**
 * No full card number anywhere in the page's HTML: none of the seeded ones, no Luhn-valid digit
 * run.
 */
async function assertNoCardNumber(page: Page, where: string): Promise<void> {
  const html = await page.content();
  for (const pan of pans)
    assert.ok(!html.includes(pan), `${where}: a full card number is in the page`);
  for (const m of html.matchAll(/(?<![0-9])[0-9]{13,19}(?![0-9])/g))
    assert.ok(!luhnValid(m[0]), `${where}: card-number-like digits at ${m.index}`);
}

const browser = await launchBrowser();

describe('operator console in chromium', { skip: browser === undefined }, () => {
  let db: TestDatabase;
  let env: AdminTestEnv;
  let page: Page;
  // fraud-ops answers; core-banking is down overnight, so its deliveries are dead-lettered.
  const rx = new WebhookReceiver();
  let coreDown = true;
  /**
   * Clear, then wait for the unfiltered table: the page resets its filter form when the route
   * changes, so a selection made before that reload lands would be overwritten.
   */
  const clearFilters = async () => {
    await page.click('button:has-text("Clear")');
    await page.waitForFunction(
      () => document.querySelectorAll('#notifications-table tbody tr').length >= 50,
    );
  };
  const shot = (name: string, on: Page = page) =>
    on.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: false });

  before(async () => {
    await rx.start();
    rx.respond = (req) => ({ status: req.path === '/core-banking' && coreDown ? 503 : 204 });
    db = await sqliteDialect.create();
    const whsec = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    env = await startAdminEnv(db.url, {
      sinks: [
        {
          name: 'fraud-ops',
          type: 'webhook',
          url: `${rx.url}/fraud-ops`,
          secrets: [secretEnv(whsec)],
          timeoutMs: 2000,
        },
        {
          name: 'core-banking',
          type: 'webhook',
          url: `${rx.url}/core-banking`,
          secrets: [secretEnv(whsec)],
          timeoutMs: 2000,
          retry: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 },
        },
      ],
    });
    await seed(env);
    const sinks = async () =>
      (await env.call('GET', '/api/sinks', { token: env.operators.viewer.apiToken })).json
        .items as { name: string; counts: Record<string, number> }[];
    await waitFor('every delivery delivered or dead', async () => {
      const x = await sinks();
      return (
        x.every((y) => y.counts.pending! + y.counts.failed! === 0) &&
        x.find((y) => y.name === 'fraud-ops')!.counts.delivered! > 50
      );
    });
    const context = await (browser as Browser).newContext({
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
    });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await env?.close();
    await rx.close();
    await db?.drop();
  });

  it('signs in with the form and lands on the overview with charts', async () => {
    await page.goto(`${env.adminUrl}/`);
    assert.match(page.url(), /\/login$/);
    await page.fill('input[name="username"]', 'anna.analyst');
    await page.fill('input[name="password"]', 'not the password');
    await page.click('button[type="submit"]');
    await page.waitForSelector('.alert-error');
    await shot('login-failed');
    await page.fill('input[name="password"]', env.operators.analyst.password);
    await page.click('button[type="submit"]');
    await page.waitForSelector('.kpi');
    await page.waitForSelector('.chart svg rect');
    assert.equal(await page.textContent('.who-name'), 'anna.analyst');
    await shot('overview');
    await assertNoCardNumber(page, 'overview');
  });

  it('filters the notifications table and opens a detail with the masked card', async () => {
    await page.click('nav >> text=Notifications');
    await page.waitForSelector('#notifications-table tbody tr');
    const total = await page.locator('#notifications-table tbody tr').count();
    assert.ok(total >= 50, `${total} rows`);
    await page.selectOption('select[name="status"]', 'quarantined');
    await page.click('button:has-text("Apply")');
    await page.waitForFunction(
      () => document.querySelectorAll('#notifications-table tbody tr').length < 20,
    );
    const statuses = await page.locator('#notifications-table tbody tr .badge').allTextContents();
    assert.ok(statuses.length > 0 && statuses.every((s) => s === 'quarantined'), statuses.join());
    await shot('notifications-quarantined');

    await clearFilters();
    await page.selectOption('select[name="risk"]', 'high');
    await page.click('button:has-text("Apply")');
    await page.waitForFunction(
      () => document.querySelectorAll('#notifications-table tbody tr').length < 40,
    );
    const levels = await page
      .locator('#notifications-table tbody tr .risk .badge')
      .allTextContents();
    assert.ok(levels.length > 0 && levels.every((l) => l === 'high'), levels.join());
    await page.click('#notifications-table tbody tr');
    await page.waitForSelector('#risk-assessment');
    const reasons = (await page.textContent('#risk-assessment')) ?? '';
    // Strangers, unknown cards, and cardholders whose email and phone on file are both out of
    // date (CONTACT_MISMATCH makes those high by default: docs/fraud.md).
    assert.match(reasons, /NAME_MISMATCH|CARD_UNKNOWN|CONTACT_MISMATCH/);
    await shot('notification-high-risk');
    await page.goBack();

    // A typed card number: fingerprinted server-side, never put in the URL.
    const pan = pans[2]!;
    await clearFilters();
    await page.fill('input[name="pan"]', pan);
    await page.click('button:has-text("Apply")');
    await page.waitForSelector('.alert-info');
    await page.waitForFunction(
      () => document.querySelectorAll('#notifications-table tbody tr').length === 1,
    );
    assert.ok(!page.url().includes(pan));
    await assertNoCardNumber(page, 'card search');

    await page.click('#notifications-table tbody tr');
    await page.waitForSelector('#masked-card');
    assert.equal(
      (await page.textContent('#masked-card'))?.trim(),
      `${pan.slice(0, 6)} •• ${pan.slice(-4)}`,
    );
    await shot('notification-detail');
    await assertNoCardNumber(page, 'detail');
  });

  it('reprocesses a quarantined notification from the quarantine queue', async () => {
    await page.click('nav >> text=Quarantine');
    await page.waitForSelector('#quarantine-table tbody tr');
    const before = await page.locator('#quarantine-table tbody tr').count();
    await shot('quarantine');
    const row = page.locator('#quarantine-table tbody tr', { hasText: 'JWE_KID_UNKNOWN' }).first();
    await row.locator('button:has-text("Reprocess")').click();
    await page.waitForSelector('.alert-ok');
    assert.match((await page.textContent('.alert-ok')) ?? '', /1 accepted/);
    await page.waitForFunction(
      (n) => document.querySelectorAll('#quarantine-table tbody tr').length === n - 1,
      before,
    );
    await assertNoCardNumber(page, 'quarantine');
  });

  it('retries a dead delivery from the dead-letter queue once the sink is back', async () => {
    await page.click('nav >> text=Deliveries');
    await page.waitForSelector('#sinks-table .sink-card');
    await page.waitForSelector('#deliveries-table tbody tr');
    const deadRows = await page.locator('#deliveries-table tbody tr').count();
    assert.ok(deadRows > 10, `${deadRows} dead deliveries`);
    assert.ok(((await page.textContent('#deliveries-table')) ?? '').includes('HTTP_503'));
    await shot('deliveries-dead-letters');
    coreDown = false; // the core system is back
    const row = page.locator('#deliveries-table tbody tr').first();
    const id = await row.getAttribute('data-id');
    await row.locator('button:has-text("Retry")').click();
    await page.waitForSelector('.alert-ok');
    await page.waitForFunction(
      (n) => document.querySelectorAll('#deliveries-table tbody tr').length === n - 1,
      deadRows,
    );
    await waitFor('the retried delivery', async () => {
      const d = await env.call(
        'GET',
        `/api/deliveries?status=delivered&sink=core-banking&limit=200`,
        { token: env.operators.viewer.apiToken },
      );
      return d.json.items.some((x: { id: string }) => x.id === id);
    });
    await assertNoCardNumber(page, 'deliveries');
    // The detail of an accepted notification shows its delivery timeline per sink.
    await page.click('nav >> text=Notifications');
    await page.click('#notifications-table tbody tr >> nth=3');
    await page.waitForSelector('#delivery-timeline .timeline-sink');
    const timeline = (await page.textContent('#delivery-timeline')) ?? '';
    assert.ok(
      timeline.includes('fraud-ops') &&
        timeline.includes('core-banking') &&
        timeline.includes('Delivered'),
      timeline,
    );
    await shot('notification-detail');
  });

  it('shows keys with expiry and the audit log of what was done', async () => {
    await page.click('nav >> text=Keys');
    await page.waitForSelector('#keys-table tbody tr');
    assert.ok(((await page.textContent('#keys-table')) ?? '').includes('issuer-enc-2026'));
    await shot('keys');
    // The audit log is for administrators (PCI DSS 10.3.1): the analyst has no way to it.
    assert.equal(await page.locator('nav >> text=Audit log').count(), 0);
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1440, height: 900 } });
    const p = await ctx.newPage();
    await p.goto(`${env.adminUrl}/login`);
    await p.fill('input[name="username"]', 'adam.admin');
    await p.fill('input[name="password"]', env.operators.admin.password);
    await p.click('button[type="submit"]');
    await p.waitForSelector('.kpi');
    await p.click('nav >> text=Audit log');
    await p.waitForSelector('#audit-table tbody tr');
    const audit = (await p.textContent('#audit-table')) ?? '';
    for (const action of [
      'notification.reprocess',
      'notification.search_by_card',
      'notification.view',
      'session.login',
      'delivery.retry',
    ])
      assert.ok(audit.includes(action), action);
    await shot('audit', p);
    await assertNoCardNumber(p, 'audit');
    await ctx.close();
  });

  it('a viewer sees the queue but cannot reprocess', async () => {
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1440, height: 900 } });
    const p = await ctx.newPage();
    await p.goto(`${env.adminUrl}/login`);
    await p.fill('input[name="username"]', 'vera.viewer');
    await p.fill('input[name="password"]', env.operators.viewer.password);
    await p.click('button[type="submit"]');
    await p.waitForSelector('.kpi');
    await p.goto(`${env.adminUrl}/#/quarantine`);
    await p.waitForSelector('#quarantine-table tbody tr');
    assert.equal(
      await p.locator('#quarantine-table button:has-text("Reprocess")').first().isDisabled(),
      true,
    );
    assert.equal(await p.locator('nav >> text=Operators').count(), 0);
    await ctx.close();
  });
});
