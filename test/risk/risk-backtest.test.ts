import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labelPopulation } from '../../eval/risk-labelling.js';
import { EVAL_BIN, type Holder, PopulationBuilder } from '../../eval/risk-population.js';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { soleIssuerKeys } from '../../src/keys/load-secrets.js';
import { importCardholders } from '../../src/risk/directory/cardholder-import.js';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { attemptPayload } from '../support/cardholder-fixtures.js';
import { runCli } from '../support/cli-process.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { assertNoPersonalData, registerSensitive } from '../support/personal-data.js';
import { secretEnv } from '../support/secret-env.js';
import { processTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * The known weak spot, as live settings: CONTACT_MISMATCH at its earlier weight of 15, so that an
 * enroller with the cardholder's real name and their own email and phone scores 45 (medium).
 */
const LIVE_RISK = {
  defaultCountry: 'GB',
  binRanges: [EVAL_BIN],
  rules: { CONTACT_MISMATCH: { weight: 15 } },
};

interface Sent {
  id: string;
  fraud: boolean;
  kind: string;
}

for (const dialect of await dialects()) {
  describe(`risk evaluate and backtest on a labelled population on ${dialect.name}`, () => {
    let db: TestDatabase;
    let env: AdminTestEnv;
    const rx = new WebhookReceiver();
    const dir = processTempDir('ctp-backtest-');
    let configFile: string;
    const sent: Sent[] = [];

    before(async () => {
      await rx.start();
      db = await dialect.create();
      env = await startAdminEnv(db.url, {
        shared: {
          risk: {
            ...LIVE_RISK,
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
      configFile = join(dir, 'config.json');
      writeFileSync(configFile, JSON.stringify(env.visa.config));

      // The eval's population, smaller: cardholders, their own enrollments, strangers on real
      // cards, and the weak spot: the card's real name with the fraudster's own email and phone,
      // on cards with both on file and no other attempt.
      const b = new PopulationBuilder(11);
      const holders: Holder[] = Array.from({ length: 160 }, () => b.holder());
      for (const h of holders)
        registerSensitive(h.pan, h.firstName, h.lastName, ...h.emails, ...h.phones);
      const file = join(dir, 'holders.jsonl');
      writeFileSync(
        file,
        holders
          .map((h) =>
            JSON.stringify({
              accountNumber: h.pan,
              firstName: h.firstName,
              lastName: h.lastName,
              emails: h.emails,
              phones: h.phones,
              status: h.status,
              language: h.language,
            }),
          )
          .join('\n'),
      );
      const imported = await importCardholders(
        file,
        env.visa.runtime.risk!.stores.cardholders,
        soleIssuerKeys(env.visa.runtime.secrets).dataProtector,
        { defaultCountry: 'GB' },
      );
      assert.equal(imported.skipped, 0);
      const enrolling = holders.slice(0, 120);
      const untouched = holders.slice(120).filter((h) => h.phones.length > 0);
      const attempts = [
        ...enrolling.map((h) => b.legit(h)),
        ...Array.from({ length: 20 }, () => ({
          pan: b.pick(enrolling).pan,
          ...b.stranger(),
          fraud: true,
          kind: 'unrelated-enroller',
        })),
        ...untouched.slice(0, 20).map((h) => {
          const s = b.stranger(0);
          return {
            pan: h.pan,
            firstName: h.firstName,
            lastName: h.lastName,
            email: s.email,
            phone: s.phone,
            fraud: true,
            kind: 'knows-name',
          };
        }),
      ];
      for (const a of attempts) {
        const payload = attemptPayload(a.pan, a);
        assert.equal(
          (await env.visa.post({ encryptedData: await env.visa.encode(payload) })).status,
          200,
        );
        const [n] = await env.visa.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 });
        sent.push({ id: n!.id, fraud: a.fraud, kind: a.kind });
      }
      const risk = env.visa.runtime.risk!.stores;
      await waitFor(
        'every assessment',
        async () => (await risk.risk.assessments(sent.map((s) => s.id))).size === sent.length,
        30_000,
      );
      const alerts = await waitFor(
        'every alert sent',
        async () => {
          const rows = await risk.alerts.list(10_000);
          return rows.length === sent.length && rows.every((a) => a.status === 'sent')
            ? rows
            : undefined;
        },
        30_000,
      );
      const labels = await labelPopulation({
        adminUrl: env.adminUrl,
        channelToken: env.operators.channel.apiToken,
        analystToken: env.operators.analyst.apiToken,
        truth: new Map(sent.map((s) => [s.id, s.fraud])),
        alerts: new Map(alerts.map((a) => [a.notificationId, a.id])),
        random: b.r,
      });
      assert.ok(labels.answered > 50 && labels.closed > 5, JSON.stringify(labels));
    });
    after(async () => {
      await env.close();
      await rx.close();
      await db.drop();
    });

    it('evaluate: the confusion matrix against labels and per-code precision, the same in the CLI and the API', async () => {
      const r = runCli(['risk', 'evaluate', '--config', configFile, '--format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const e = JSON.parse(r.stdout);
      assert.equal(e.attempts, sent.length);
      const cells = Object.values(e.matrix as Record<string, Record<string, number>>).flatMap((c) =>
        Object.values(c),
      );
      assert.equal(
        cells.reduce((x, y) => x + y, 0),
        sent.length,
      );
      assert.equal(e.labelled, e.fraud + e.legitimate);
      assert.ok(e.fraud > 10 && e.legitimate > 40, `${e.fraud} fraud, ${e.legitimate} legitimate`);
      assert.ok(e.matrix.high.fraud > e.matrix.high.legitimate, 'high is mostly fraud');
      assert.ok(e.matrix.low.legitimate > e.matrix.low.fraud, 'low is mostly legitimate');
      const contact = e.reasons.find((x: { code: string }) => x.code === 'CONTACT_MISMATCH');
      assert.ok(contact.fired >= 40 && contact.precision > 0.8, JSON.stringify(contact));
      const api = await env.call('GET', '/api/risk/evaluation', {
        token: env.operators.viewer.apiToken,
      });
      assert.deepEqual(api.json, e);

      const table = runCli(['risk', 'evaluate', '--config', configFile]);
      assert.equal(table.status, 0, table.stderr);
      assert.match(table.stdout, /labelled/);
      assert.match(table.stdout, /CONTACT_MISMATCH\s+active/);
      assertNoPersonalData(r.stdout + table.stdout, 'evaluate output');
    });

    it('backtest: raising CONTACT_MISMATCH moves the real-name takeovers from medium to high, by id only', () => {
      const candidate = join(dir, 'candidate.json');
      writeFileSync(
        candidate,
        JSON.stringify({ ...LIVE_RISK, rules: { CONTACT_MISMATCH: { weight: 40 } } }),
      );
      const r = runCli([
        'risk',
        'backtest',
        '--config',
        configFile,
        '--risk-config',
        candidate,
        '--format',
        'json',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const bt = JSON.parse(r.stdout);
      assert.deepEqual(
        [bt.attempts, bt.skipped, bt.drift],
        [sent.length, 0, 0],
        'every attempt re-scored, and exactly as assessed under the live settings',
      );
      const knowsName = sent.filter((s) => s.kind === 'knows-name').map((s) => s.id);
      assert.equal(knowsName.length, 20);
      const moved = new Map(
        bt.changed.map((c: { id: string; from: string; to: string }) => [
          c.id,
          `${c.from}→${c.to}`,
        ]),
      );
      for (const id of knowsName) assert.equal(moved.get(id), 'medium→high', id);
      for (const c of bt.changed) assert.deepEqual(Object.keys(c).sort(), ['from', 'id', 'to']);
      // Every attempt labelled fraud that sat at medium (these takeovers) is at high after.
      assert.ok(bt.before.medium.fraud > 0);
      assert.equal(bt.after.medium.fraud, 0);
      assert.equal(bt.after.high.fraud, bt.before.high.fraud + bt.before.medium.fraud);
      const total = (
        m: Record<string, { fraud: number; legitimate: number; unlabelled: number }>,
      ) => Object.values(m).reduce((n, c) => n + c.fraud + c.legitimate + c.unlabelled, 0);
      assert.equal(total(bt.before), sent.length);
      assert.equal(total(bt.after), sent.length);
      assert.equal(
        bt.labelled,
        sent.length -
          (bt.before.low.unlabelled + bt.before.medium.unlabelled + bt.before.high.unlabelled),
      );

      const table = runCli([
        'risk',
        'backtest',
        '--config',
        configFile,
        '--risk-config',
        candidate,
        '--limit',
        '3',
      ]);
      assert.equal(table.status, 0, table.stderr);
      assert.match(table.stdout, /medium → high \d+/);
      assert.match(table.stdout, /more \(--format json lists all\)/);
      assertNoPersonalData(r.stdout + table.stdout, 'backtest output');
    });

    it('a candidate the schema refuses exits 2 naming the file and field; nothing changed live', async () => {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ levels: { medium: 80, high: 70 } }));
      const r = runCli(['risk', 'backtest', '--config', configFile, '--risk-config', bad]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /bad\.json#\/levels: medium must be below high/);
      const weight = join(dir, 'weight.json');
      writeFileSync(weight, JSON.stringify({ rules: { CONTACT_MISMATCH: { weight: 400 } } }));
      assert.match(
        runCli(['risk', 'backtest', '--config', configFile, '--risk-config', weight]).stderr,
        /weight\.json#\/rules\/CONTACT_MISMATCH\/weight/,
      );
      const stored = await env.visa.runtime.risk!.stores.risk.assessments(sent.map((s) => s.id));
      const knowsName = sent.filter((s) => s.kind === 'knows-name');
      assert.ok(
        knowsName.every((s) => stored.get(s.id)!.level === 'medium'),
        'stored levels unchanged',
      );
    });
  });
}
