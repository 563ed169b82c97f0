import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { soleIssuerKeys } from '../../src/keys/load-secrets.js';
import { luhnValid } from '../../src/protect/data-protector.js';
import { uuidV7 } from '../../src/util/uuid-v7.js';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { launchBrowser, SCREENSHOTS } from '../support/browser.js';
import {
  attemptPayload,
  type FixtureHolder,
  fixtureHolder,
  importHolders,
} from '../support/cardholder-fixtures.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { acceptedRecord } from '../support/records.js';
import { inputsFor } from '../support/risk-context.js';
import { secretEnv } from '../support/secret-env.js';
import { waitFor } from '../support/wait-for.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

// Evaluated inside the page by playwright.
declare const document: { querySelectorAll(selector: string): { length: number } };

const HOUR = 3_600_000;
const pans: string[] = [];

async function assertNoCardNumber(page: Page, where: string): Promise<void> {
  const html = await page.content();
  for (const pan of pans) assert.ok(!html.includes(pan), `${where}: a full card number`);
  for (const m of html.matchAll(/(?<![0-9])[0-9]{13,19}(?![0-9])/g))
    assert.ok(!luhnValid(m[0]), `${where}: card-number-like digits at ${m.index}`);
}

const browser = await launchBrowser();

describe('the case flow in the console, in chromium', { skip: browser === undefined }, () => {
  let db: TestDatabase;
  let env: AdminTestEnv;
  let page: Page;
  const rx = new WebhookReceiver();
  const ids: Record<'fresh' | 'overdue' | 'escalated', string> = {
    fresh: '',
    overdue: '',
    escalated: '',
  };
  const holders: FixtureHolder[] = [];
  const shot = (name: string) =>
    page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: false });

  const send = async (h: FixtureHolder, stranger: boolean) => {
    const who = stranger
      ? {
          firstName: 'Eve',
          lastName: 'Mallory',
          email: `eve.${randomBytes(3).toString('hex')}@example.net`,
          phone: '+447700900777',
        }
      : { firstName: h.firstName, lastName: h.lastName, email: h.email, phone: h.phone };
    const body = { encryptedData: await env.visa.encode(attemptPayload(h.pan, who)) };
    assert.equal((await env.visa.post(body)).status, 200);
    const [n] = await env.visa.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 });
    await waitFor('the assessment', () => env.visa.runtime.risk!.stores.risk.isAssessed(n!.id));
    return n!.id;
  };
  const alertOf = (notificationId: string) =>
    waitFor('the sent alert', async () => {
      const rows = await env.visa.runtime.risk!.stores.alerts.list(100);
      return rows.find((a) => a.notificationId === notificationId && a.status === 'sent')?.id;
    });
  const answer = (alertId: string, a: string) =>
    env.call('POST', `/api/alerts/${alertId}/answer`, {
      token: env.operators.channel.apiToken,
      body: { answer: a },
    });

  before(async () => {
    await rx.start();
    db = await sqliteDialect.create();
    env = await startAdminEnv(db.url, {
      shared: {
        risk: {
          defaultCountry: 'GB',
          alert: {
            bankName: 'Example Bank',
            helpContact: 'call 0800 000 000',
            windowSeconds: 0,
            sink: {
              type: 'webhook',
              url: `${rx.url}/alerts`,
              secrets: [secretEnv(`whsec_${randomBytes(32).toString('base64')}`)],
              timeoutMs: 2000,
            },
          },
        },
      },
    });
    env.visa.runtime.startBackground();
    for (let i = 0; i < 4; i++) holders.push(fixtureHolder());
    pans.push(...holders.map((h) => h.pan));
    await importHolders(env.visa, holders);

    // A stranger on the first card: a high-risk case, fresh.
    await send(holders[0]!, true);
    // A case opened 30 hours ago: overdue (risk.cases.slaHours is 24).
    const dp = soleIssuerKeys(env.visa.runtime.secrets).dataProtector;
    const old = acceptedRecord(dp, Date.now() - 30 * HOUR);
    pans.push(old.pan);
    await env.visa.runtime.store.record(old);
    const saved = await env.visa.runtime.risk!.stores.risk.saveAssessment(
      {
        notificationId: old.id,
        receivedAt: old.receivedAt,
        assessedAt: old.receivedAt + 1000,
        cardFingerprint: old.panFingerprint,
        emailHash: null,
        phoneHash: null,
        emailOnFile: null,
        phoneOnFile: null,
        score: 70,
        level: 'high',
        reasons: [{ code: 'CARD_UNKNOWN', detail: 'directory=unknown' }],
        shadow: [],
        directory: 'unknown',
        inputs: inputsFor({ directory: { kind: 'unknown' } }),
      },
      undefined,
      { id: uuidV7(), opens: true, panLast4: old.panLast4 },
    );
    ids.overdue = saved.caseId!;
    // The cardholder of the second card says "not me" to an attempt that looked fine.
    const mine = await send(holders[1]!, false);
    const escalated = await answer(await alertOf(mine), 'not_recognised');
    assert.equal(escalated.status, 200);
    ids.escalated = escalated.json.caseId;
    // The third cardholder recognises their own attempt: a legitimate label.
    const own = await send(holders[2]!, false);
    assert.equal((await answer(await alertOf(own), 'recognised')).status, 200);

    const list = await env.call('GET', '/api/cases', { token: env.operators.viewer.apiToken });
    ids.fresh = list.json.items.find(
      (c: { panLast4: string }) => c.panLast4 === holders[0]!.pan.slice(-4),
    ).id;
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

  it('the queue puts the overdue case first; an analyst assigns one to themself', async () => {
    await page.goto(`${env.adminUrl}/login`);
    await page.fill('input[name="username"]', 'anna.analyst');
    await page.fill('input[name="password"]', env.operators.analyst.password);
    await page.click('button[type="submit"]');
    await page.waitForSelector('.kpi');
    await page.click('nav >> text=Cases');
    await page.waitForSelector('#cases-table tbody tr');
    const rows = page.locator('#cases-table tbody tr');
    assert.equal(await rows.count(), 3);
    assert.equal(await rows.first().getAttribute('data-id'), ids.overdue, 'overdue first');
    assert.match((await rows.first().textContent()) ?? '', /overdue/);
    assert.equal(
      await rows.nth(1).getAttribute('data-id'),
      ids.escalated,
      'then the cardholder’s “not me”',
    );
    assert.match((await rows.nth(1).textContent()) ?? '', /cardholder: not me/);
    const fresh = page.locator(`#cases-table tr[data-id="${ids.fresh}"]`);
    await fresh.locator('button.assign-me').click();
    await fresh.locator('td', { hasText: 'anna.analyst' }).waitFor();
    assert.match((await fresh.textContent()) ?? '', /in review/);
    await page.click('#mine');
    await page.waitForFunction(
      () => document.querySelectorAll('#cases-table tbody tr').length === 1,
    );
    await page.click('#mine');
    await page.waitForFunction(
      () => document.querySelectorAll('#cases-table tbody tr').length === 3,
    );
    await shot('cases');
    await assertNoCardNumber(page, 'cases');
  });

  it('the case page: attempts with reasons, a note, then the disposition closes it', async () => {
    await page.click(`#cases-table tr[data-id="${ids.fresh}"] a`);
    // The page keeps the previous case on screen while the next loads: wait for this case's own.
    await page.waitForSelector(`#case-fields[data-case-id="${ids.fresh}"]`);
    await page.waitForSelector('#case-attempts tbody tr');
    const attempts = (await page.textContent('#case-attempts')) ?? '';
    assert.match(attempts, /NAME_MISMATCH/);
    assert.match(attempts, /sent/, 'the alert was sent');
    await page.fill('textarea[name="note"]', 'Phoned the cardholder: not them.');
    await page.click('#note-form button[type="submit"]');
    await page.waitForFunction(
      () => document.querySelectorAll('#case-notes .note-text').length === 1,
    );
    await page.selectOption('select[name="disposition"]', 'confirmed_fraud');
    await page.fill('textarea[name="closing-note"]', 'Card blocked, tokens deleted.');
    await page.click('#close-form button[type="submit"]');
    await page.waitForSelector('.alert-ok');
    await waitFor('the disposition', async () =>
      ((await page.textContent('#disposition')) ?? '').includes('confirmed fraud'),
    );
    const notes = (await page.textContent('#case-notes')) ?? '';
    assert.match(notes, /Phoned the cardholder: not them\./);
    assert.match(notes, /Card blocked, tokens deleted\./);
    assert.match(notes, /anna\.analyst/);
    await shot('case-detail');
    await assertNoCardNumber(page, 'case page');

    await page.goto(`${env.adminUrl}/#/cases/${ids.escalated}`);
    // A hash route keeps the same page component: the closed case's table is still there until
    // the escalated one has loaded.
    await page.waitForSelector(`#case-fields[data-case-id="${ids.escalated}"]`);
    assert.match((await page.textContent('#case-attempts .answer')) ?? '', /not recognised/);
    assert.match((await page.textContent('#case-fields')) ?? '', /not recognised/);
    await assertNoCardNumber(page, 'escalated case');
  });

  it('the evaluation page shows the confusion matrix against the labels, with a chart', async () => {
    await page.click('nav >> text=Evaluation');
    await page.waitForSelector('#confusion-matrix tbody tr');
    const high = (await page.textContent('#confusion-matrix tr[data-level="high"]')) ?? '';
    const low = (await page.textContent('#confusion-matrix tr[data-level="low"]')) ?? '';
    // The closed case's stranger (fraud, high); the two answers (fraud and legitimate, low).
    assert.match(high, /^high1/);
    assert.match(low, /^low11/);
    assert.ok((await page.locator('.bar-rows svg rect').count()) >= 3, 'the chart');
    assert.match((await page.textContent('#reason-table')) ?? '', /NAME_MISMATCH/);
    await shot('evaluation');
    await assertNoCardNumber(page, 'evaluation');
  });

  it('a viewer reads the queue but cannot assign', async () => {
    const ctx = await (browser as Browser).newContext({ viewport: { width: 1440, height: 900 } });
    const p = await ctx.newPage();
    await p.goto(`${env.adminUrl}/login`);
    await p.fill('input[name="username"]', 'vera.viewer');
    await p.fill('input[name="password"]', env.operators.viewer.password);
    await p.click('button[type="submit"]');
    await p.waitForSelector('.kpi');
    await p.goto(`${env.adminUrl}/#/cases`);
    await p.waitForSelector('#cases-table tbody tr');
    assert.equal(await p.locator('#cases-table button.assign-me').first().isDisabled(), true);
    await ctx.close();
  });
});
