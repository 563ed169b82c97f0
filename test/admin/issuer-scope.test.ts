import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { DEFAULT_ADMIN } from '../../src/admin/admin-context.js';
import { addOperator } from '../../src/admin/operators.js';
import { ALL_ISSUERS, onlyIssuers } from '../../src/domain/issuer-scope.js';
import type { Role } from '../../src/domain/roles.js';
import { createLogger } from '../../src/logger.js';
import { uuidV7 } from '../../src/util/uuid-v7.js';
import { launchBrowser, SCREENSHOTS } from '../support/browser.js';
import { runCli } from '../support/cli-process.js';
import { type Dialect, dialects } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { PUBLIC_ADMIN_ROUTES } from '../support/public-admin-routes.js';
import { rawSql } from '../support/raw-sql.js';
import { routerRoutes } from '../support/router-routes.js';
import { capturedLogs, NOTIFICATION_PATH, type TestServer } from '../support/server-harness.js';
import { processTempDir } from '../support/temp-dir.js';
import { testPki } from '../support/test-pki.js';
import { SECRET_A, SECRET_B, startTwoIssuersWithSinks } from '../support/two-issuers.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Issuers isolated on the admin side: an operator of bank-b is walked through every route the
 * admin listener has, aimed at bank-a's resources, and must get what a resource that does not
 * exist gets (404; lists without them). An operator of bank-a gets the same requests served, so
 * the walk would fail if the resources were not there.
 */

// Evaluated inside the page by playwright.
declare const document: { querySelectorAll(selector: string): { length: number } };

type Who = 'a' | 'b' | 'aChannel' | 'bChannel' | 'all';
// biome-ignore lint/suspicious/noExplicitAny: each check reads the JSON shape it asked for
type Json = any;

for (const dialect of await dialects()) {
  describe(`operators see their issuers only (${dialect.name})`, () => {
    let server: TestServer;
    let admin: FastifyInstance;
    let adminUrl: string;
    let rx: WebhookReceiver;
    let drop: () => Promise<void>;
    const tokens = {} as Record<Who, string>;
    const passwords = {} as Record<Who, string>;
    const ids = {
      aNotification: '',
      aQuarantined: '',
      aDelivery: '',
      aCase: uuidV7(),
      aAlert: uuidV7(),
      aPan: '',
      bCount: 0,
    };

    const call = async (
      who: Who,
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; json: Json }> => {
      const res = await request(`${adminUrl}${path}`, {
        method: method as 'GET',
        headers: {
          authorization: `Bearer ${tokens[who]}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
    };

    before(async () => {
      const pki = await testPki();
      const dir = processTempDir('ctp-scope-');
      rx = await new WebhookReceiver().start();
      const db = await (dialect as Dialect).create();
      drop = db.drop;
      server = await startTwoIssuersWithSinks(pki, dir, db.url, rx.url);
      const logger = createLogger('info', { write: (line: string) => capturedLogs.push(line) });
      admin = await buildAdminApp({
        // Signed in with a password alone: the second factor is local-mfa.test.ts's.
        config: { ...server.config, admin: { ...DEFAULT_ADMIN, localMfa: 'optional' } },
        secrets: server.runtime.secrets,
        store: server.runtime.store,
        outbox: server.runtime.outbox,
        pipelines: server.runtime.pipelines,
        logger,
      });
      await admin.listen({ host: '127.0.0.1', port: 0 });
      adminUrl = `http://127.0.0.1:${(admin.server.address() as { port: number }).port}`;

      const operators = server.runtime.store.openAdminStores().operators;
      const add = async (who: Who, name: string, role: Role, scope: typeof ALL_ISSUERS) => {
        const issued = await addOperator(operators, name, role, scope);
        tokens[who] = issued.apiToken;
        passwords[who] = issued.password;
      };
      await add('a', 'a.admin', 'admin', onlyIssuers(['bank-a']));
      await add('b', 'b.admin', 'admin', onlyIssuers(['bank-b']));
      await add('aChannel', 'a.app', 'channel', onlyIssuers(['bank-a']));
      await add('bChannel', 'b.app', 'channel', onlyIssuers(['bank-b']));
      await add('all', 'processor.admin', 'admin', ALL_ISSUERS);

      // bank-a: one accepted (with its deliveries), one quarantined (encrypted to bank-b's key).
      const send = async (base: string, to: 'first' | 'second', secret: string) => {
        const payload = enrollmentPayload();
        const encryptedData = await server.encode(payload, { encryptTo: to });
        const r = await server.post(
          { encryptedData },
          { rawPath: `${base}${NOTIFICATION_PATH}`, xPayToken: { secret } },
        );
        const enrollment = payload.enrollment as { paymentInstrument: { accountNumber: string } };
        return { status: r.status, pan: enrollment.paymentInstrument.accountNumber };
      };
      const accepted = await send('/bank-a', 'first', SECRET_A);
      assert.equal(accepted.status, 200);
      assert.equal((await send('/bank-a', 'second', SECRET_A)).status, 500);
      for (let i = 0; i < 2; i++)
        assert.equal((await send('/bank-b', 'second', SECRET_B)).status, 200);
      ids.bCount = 2;
      const sql = rawSql(server.runtime.store);
      const rows = await sql.all<{ id: string; status: string; pan_last4: string | null }>(
        "SELECT id, status, pan_last4 FROM notifications WHERE issuer = 'bank-a'",
      );
      ids.aNotification = rows.find((r) => r.status === 'accepted')!.id;
      ids.aQuarantined = rows.find((r) => r.status === 'quarantined')!.id;
      const [card] = await sql.all<{ pan_fingerprint: string; pan_last4: string }>(
        'SELECT pan_fingerprint, pan_last4 FROM notifications WHERE id = ?',
        [ids.aNotification],
      );
      await eventually(async () => {
        const delivered = await sql.all(
          "SELECT 1 FROM deliveries WHERE status = 'delivered' AND notification_id IN (SELECT id FROM notifications WHERE status = 'accepted')",
        );
        return delivered.length === 2 + ids.bCount * 2 ? true : undefined;
      }, "every accepted notification's deliveries");
      const [delivery] = await sql.all<{ id: string }>(
        "SELECT id FROM deliveries WHERE notification_id = ? AND sink = 'a-core'",
        [ids.aNotification],
      );
      ids.aDelivery = delivery!.id;
      // A fraud case and a sent alert of bank-a's notification, as the risk loop writes them.
      const now = Date.now();
      await sql.run(
        `INSERT INTO cases (id, card_fingerprint, pan_last4, status, level, opened_by, opened_at, updated_at)
         VALUES (?, ?, ?, 'open', 'high', 'assessment', ?, ?)`,
        [ids.aCase, card!.pan_fingerprint, card!.pan_last4, now, now],
      );
      await sql.run(
        'INSERT INTO case_attempts (notification_id, case_id, added_at) VALUES (?, ?, ?)',
        [ids.aNotification, ids.aCase, now],
      );
      await sql.run(
        `INSERT INTO risk_alerts (id, notification_id, card_fingerprint, created_at, received_at, status, level, next_attempt_at, sent_at)
         VALUES (?, ?, ?, ?, ?, 'sent', 'high', ?, ?)`,
        [ids.aAlert, ids.aNotification, card!.pan_fingerprint, now, now, now, now],
      );
      ids.aPan = accepted.pan;
      // bank-a's admin views it: an audit entry of bank-a.
      assert.equal((await call('a', 'GET', `/api/notifications/${ids.aNotification}`)).status, 200);
    });
    after(async () => {
      await admin?.close();
      await server?.close();
      await rx?.close();
      await drop?.();
    });

    const noneOfA = (items: { issuer?: string | null }[]) =>
      assert.ok(
        items.every((i) => i.issuer !== 'bank-a'),
        `bank-a's items listed: ${JSON.stringify(items.filter((i) => i.issuer === 'bank-a'))}`,
      );
    const notFound = async (who: Who, method: string, path: string, body?: unknown) => {
      const r = await call(who, method, path, body);
      assert.equal(r.status, 404, `${who} ${method} ${path}: ${JSON.stringify(r.json)}`);
    };
    const served = async (who: Who, method: string, path: string, body?: unknown) => {
      const r = await call(who, method, path, body);
      assert.ok(r.status < 400, `${who} ${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    };

    /** Each route: what bank-b's operator gets for bank-a's resource, and bank-a's gets served. */
    const WALK: Record<string, () => Promise<void>> = {
      'GET /api/me': async () => {
        const me = await served('b', 'GET', '/api/me');
        assert.deepEqual([me.allIssuers, me.issuers], [false, ['bank-b']]);
        assert.deepEqual(
          me.issuerChoices.map((i: { id: string }) => i.id),
          ['bank-b'],
        );
        const all = await served('all', 'GET', '/api/me');
        assert.deepEqual(
          all.issuerChoices.map((i: { id: string }) => i.id),
          ['bank-a', 'bank-b'],
        );
      },
      'GET /api/notifications': async () => {
        const b = await served('b', 'GET', '/api/notifications?limit=200');
        noneOfA(b.items);
        assert.equal(b.items.length, ids.bCount);
        await notFound('b', 'GET', '/api/notifications?issuer=bank-a');
        const a = await served('a', 'GET', '/api/notifications?issuer=bank-a');
        assert.equal(a.items.length, 2);
      },
      'POST /api/notifications/search': async () => {
        const b = await served('b', 'POST', '/api/notifications/search', { pan: ids.aPan });
        assert.deepEqual(b.items, []);
        await notFound('b', 'POST', '/api/notifications/search', {
          pan: ids.aPan,
          issuer: 'bank-a',
        });
        const a = await served('a', 'POST', '/api/notifications/search', { pan: ids.aPan });
        assert.deepEqual(
          a.items.map((n: { id: string }) => n.id),
          [ids.aNotification],
        );
      },
      'GET /api/notifications/:id': async () => {
        await notFound('b', 'GET', `/api/notifications/${ids.aNotification}`);
        await served('a', 'GET', `/api/notifications/${ids.aNotification}`);
      },
      'POST /api/notifications/:id/reprocess': async () => {
        await notFound('b', 'POST', `/api/notifications/${ids.aQuarantined}/reprocess`);
        const a = await served('a', 'POST', `/api/notifications/${ids.aQuarantined}/reprocess`);
        assert.equal(a.status, 'quarantined');
      },
      'GET /api/keys': async () => {
        const b = await served('b', 'GET', '/api/keys');
        noneOfA(b.items);
        assert.ok(b.items.some((k: { issuer: string | null }) => k.issuer === 'bank-b'));
        await notFound('b', 'GET', '/api/keys?issuer=bank-a');
        const a = await served('a', 'GET', '/api/keys');
        assert.ok(a.items.some((k: { issuer: string | null }) => k.issuer === 'bank-a'));
      },
      'GET /api/audit': async () => {
        const b = await served('b', 'GET', '/api/audit?limit=500');
        assert.ok(
          b.items.every((e: { issuer: string | null }) => e.issuer === 'bank-b'),
          "bank-b's admin sees bank-b's entries only (the deployment's are processor staff's)",
        );
        await notFound('b', 'GET', '/api/audit?issuer=bank-a');
        const a = await served('a', 'GET', '/api/audit?limit=500');
        assert.ok(
          a.items.some(
            (e: { action: string; target: string }) =>
              e.action === 'notification.view' && e.target === ids.aNotification,
          ),
        );
      },
      'GET /api/stats': async () => {
        const b = await served('b', 'GET', '/api/stats');
        assert.deepEqual(b.totals, { received: ids.bCount, accepted: ids.bCount, quarantined: 0 });
        await notFound('b', 'GET', '/api/stats?issuer=bank-a');
        const a = await served('a', 'GET', '/api/stats');
        assert.deepEqual(a.totals, { received: 2, accepted: 1, quarantined: 1 });
      },
      'GET /api/operators': async () => {
        const b = await served('b', 'GET', '/api/operators');
        assert.deepEqual(b.items.map((o: { name: string }) => o.name).sort(), ['b.admin', 'b.app']);
        const all = await served('all', 'GET', '/api/operators');
        assert.equal(all.items.length, 5);
      },
      'POST /api/operators': async () => {
        const body = { name: 'b.sneaky', role: 'viewer', issuers: ['bank-a'] };
        await notFound('b', 'POST', '/api/operators', body);
        await notFound('b', 'POST', '/api/operators', {
          ...body,
          issuers: undefined,
          allIssuers: true,
        });
        const made = await call('b', 'POST', '/api/operators', {
          name: 'b.viewer',
          role: 'viewer',
          issuers: ['bank-b'],
        });
        assert.equal(made.status, 201);
        assert.deepEqual([made.json.allIssuers, made.json.issuers], [false, ['bank-b']]);
        const none = await call('b', 'POST', '/api/operators', {
          name: 'b.viewer2',
          role: 'viewer',
        });
        assert.equal(none.status, 400, 'several issuers: the scope is given');
        await served('a', 'POST', '/api/operators', {
          name: 'a.viewer',
          role: 'viewer',
          issuers: ['bank-a'],
        });
      },
      'POST /api/operators/:name/disable': async () => {
        await notFound('b', 'POST', '/api/operators/a.viewer/disable');
        await notFound('b', 'POST', '/api/operators/processor.admin/disable');
        await served('a', 'POST', '/api/operators/a.viewer/disable');
      },
      'POST /api/operators/:name/enable': async () => {
        await notFound('b', 'POST', '/api/operators/a.viewer/enable');
        await served('a', 'POST', '/api/operators/a.viewer/enable');
      },
      'GET /api/operators/:name/tokens': async () => {
        await notFound('b', 'GET', '/api/operators/a.admin/tokens');
        const a = await served('a', 'GET', '/api/operators/a.admin/tokens');
        assert.equal(a.items.length, 1);
      },
      'POST /api/operators/:name/tokens': async () => {
        await notFound('b', 'POST', '/api/operators/a.admin/tokens', { name: 'sneaky' });
        await served('a', 'POST', '/api/operators/a.admin/tokens', { name: 'script' });
      },
      'POST /api/operators/:name/tokens/:id/revoke': async () => {
        const [first] = (await served('a', 'GET', '/api/operators/a.admin/tokens')).items;
        const script = (await served('a', 'GET', '/api/operators/a.admin/tokens')).items.find(
          (t: { name: string }) => t.name === 'script',
        );
        await notFound('b', 'POST', `/api/operators/a.admin/tokens/${first.id}/revoke`);
        await served('a', 'POST', `/api/operators/a.admin/tokens/${script.id}/revoke`);
      },
      'GET /api/deliveries': async () => {
        const b = await served('b', 'GET', '/api/deliveries?limit=200');
        noneOfA(b.items);
        assert.ok(b.items.length >= ids.bCount * 2, 'bank-b: its own sink and the processor');
        await notFound('b', 'GET', '/api/deliveries?issuer=bank-a');
        await notFound(
          'b',
          'GET',
          `/api/deliveries?notificationId=${ids.aNotification}&issuer=bank-a`,
        );
        const byNotification = await served(
          'b',
          'GET',
          `/api/deliveries?notificationId=${ids.aNotification}`,
        );
        assert.deepEqual(byNotification.items, []);
        const a = await served('a', 'GET', `/api/deliveries?notificationId=${ids.aNotification}`);
        assert.equal(a.items.length, 2);
        assert.ok(a.items.every((d: { issuer: string }) => d.issuer === 'bank-a'));
      },
      'POST /api/deliveries/:id/retry': async () => {
        await notFound('b', 'POST', `/api/deliveries/${ids.aDelivery}/retry`);
        // bank-a's own: found, and delivered, so nothing to retry.
        assert.equal(
          (await call('a', 'POST', `/api/deliveries/${ids.aDelivery}/retry`)).status,
          409,
        );
      },
      'POST /api/deliveries/retry-dead': async () => {
        await notFound('b', 'POST', '/api/deliveries/retry-dead', { sink: 'a-core' });
        await served('a', 'POST', '/api/deliveries/retry-dead', { sink: 'a-core' });
      },
      'GET /api/sinks': async () => {
        const b = await served('b', 'GET', '/api/sinks');
        assert.deepEqual(b.items.map((s: { name: string }) => s.name).sort(), [
          'b-core',
          'processor',
        ]);
        assert.deepEqual(
          b.items.map((s: { name: string; issuer: string | null }) => [s.name, s.issuer]).sort(),
          [
            ['b-core', 'bank-b'],
            ['processor', null],
          ],
        );
        const processor = b.items.find((s: { name: string }) => s.name === 'processor');
        assert.equal(
          processor.counts.delivered,
          ids.bCount,
          "the shared sink's counts are bank-b's",
        );
        await notFound('b', 'GET', '/api/sinks?issuer=bank-a');
        const narrowed = await served('all', 'GET', '/api/sinks?issuer=bank-b');
        assert.deepEqual(narrowed.items.map((s: { name: string }) => s.name).sort(), [
          'b-core',
          'processor',
        ]);
        const a = await served('a', 'GET', '/api/sinks');
        assert.deepEqual(a.items.map((s: { name: string }) => s.name).sort(), [
          'a-core',
          'processor',
        ]);
      },
      'POST /api/sinks/:name/replay': async () => {
        const since = { since: new Date(Date.now() - 3_600_000).toISOString() };
        await notFound('b', 'POST', '/api/sinks/a-core/replay', since);
        // The shared sink replays the operator's issuers' notifications only.
        const b = await served('b', 'POST', '/api/sinks/processor/replay', since);
        assert.equal(b.queued, ids.bCount);
        const a = await served('a', 'POST', '/api/sinks/a-core/replay', since);
        assert.equal(a.queued, 1);
      },
      'POST /api/sinks/:name/disable': async () => {
        await notFound('b', 'POST', '/api/sinks/a-core/disable', {});
        assert.equal((await call('b', 'POST', '/api/sinks/processor/disable', {})).status, 403);
        await served('a', 'POST', '/api/sinks/a-core/disable', {});
      },
      'POST /api/sinks/:name/enable': async () => {
        await notFound('b', 'POST', '/api/sinks/a-core/enable');
        await served('a', 'POST', '/api/sinks/a-core/enable');
      },
      'GET /api/cases': async () => {
        const b = await served('b', 'GET', '/api/cases');
        assert.deepEqual(b.items, []);
        await notFound('b', 'GET', '/api/cases?issuer=bank-a');
        const a = await served('a', 'GET', '/api/cases');
        assert.deepEqual(
          a.items.map((c: { id: string; issuer: string }) => [c.id, c.issuer]),
          [[ids.aCase, 'bank-a']],
        );
      },
      'GET /api/cases/:id': async () => {
        await notFound('b', 'GET', `/api/cases/${ids.aCase}`);
        await served('a', 'GET', `/api/cases/${ids.aCase}`);
      },
      'POST /api/cases/:id/assign': async () => {
        await notFound('b', 'POST', `/api/cases/${ids.aCase}/assign`, { assignee: 'b.admin' });
        // bank-b's operator is no assignee of bank-a's case: answered as an unknown name.
        const other = await call('a', 'POST', `/api/cases/${ids.aCase}/assign`, {
          assignee: 'b.admin',
        });
        assert.deepEqual([other.status, other.json.error.code], [400, 'ASSIGNEE_INVALID']);
        await served('a', 'POST', `/api/cases/${ids.aCase}/assign`, { assignee: 'a.admin' });
      },
      'POST /api/cases/:id/notes': async () => {
        await notFound('b', 'POST', `/api/cases/${ids.aCase}/notes`, { text: 'seen' });
        await served('a', 'POST', `/api/cases/${ids.aCase}/notes`, { text: 'checked' });
      },
      'POST /api/cases/:id/disposition': async () => {
        const body = { disposition: 'legitimate', note: 'cardholder confirmed' };
        await notFound('b', 'POST', `/api/cases/${ids.aCase}/disposition`, body);
        await served('a', 'POST', `/api/cases/${ids.aCase}/disposition`, body);
      },
      'POST /api/alerts/:id/answer': async () => {
        await notFound('bChannel', 'POST', `/api/alerts/${ids.aAlert}/answer`, {
          answer: 'recognised',
        });
        await served('aChannel', 'POST', `/api/alerts/${ids.aAlert}/answer`, {
          answer: 'recognised',
        });
      },
      'GET /api/risk/evaluation': async () => {
        // Several issuers run without risk: the evaluation would span them, so it is processor staff's.
        await notFound('b', 'GET', '/api/risk/evaluation');
        await notFound('a', 'GET', '/api/risk/evaluation');
        await served('all', 'GET', '/api/risk/evaluation');
      },
    };

    it('the walk covers every route the admin listener has', () => {
      const routes = routerRoutes(admin.printRoutes({ commonPrefix: false }))
        .filter((r) => r.method !== 'HEAD')
        .map((r) => `${r.method} ${r.path}`)
        .filter((r) => !PUBLIC_ADMIN_ROUTES.has(r))
        .sort();
      assert.deepEqual(routes, Object.keys(WALK).sort());
    });

    for (const [route, walk] of Object.entries(WALK))
      it(`${route}: another issuer's resources are not there`, walk);

    it('CLI commands act on one issuer (--issuer) or every one (--all-issuers), and operators get their scope', () => {
      const file = join(processTempDir('ctp-scope-cli-'), 'config.json');
      writeFileSync(file, JSON.stringify(server.config));
      const cli = (...args: string[]) => runCli([...args, '--config', file]);
      const json = (r: { status: number | null; stdout: string; stderr: string }) => {
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout);
      };
      for (const args of [
        ['deliveries', 'list'],
        ['deliveries', 'retry', '--dead'],
        ['deliveries', 'replay', '--sink', 'processor', '--since', '2026-01-01T00:00:00Z'],
        ['notifications', 'list'],
        ['quarantine', 'reprocess'],
        ['operators', 'add', '--name', 'x.viewer', '--role', 'viewer'],
      ]) {
        const r = cli(...args);
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /--issuer/);
      }
      const b = json(
        cli('deliveries', 'list', '--issuer', 'bank-b', '--format', 'json', '--limit', '200'),
      );
      assert.ok(b.length > 0);
      noneOfA(b);
      const all = json(
        cli('deliveries', 'list', '--all-issuers', '--format', 'json', '--limit', '200'),
      );
      assert.ok(all.some((d: { issuer: string }) => d.issuer === 'bank-a'));
      assert.equal(cli('deliveries', 'list', '--issuer', 'bank-a', '--all-issuers').status, 2);
      // bank-a's quarantined notification is reprocessed for bank-a only.
      assert.equal(
        json(cli('quarantine', 'reprocess', '--issuer', 'bank-b', '--quiet')).examined,
        0,
      );
      assert.equal(
        json(cli('quarantine', 'reprocess', '--issuer', 'bank-a', '--quiet')).examined,
        1,
      );
      assert.equal(
        cli('operators', 'add', '--name', 'z', '--role', 'viewer', '--issuer', 'bank-z').status,
        2,
      );
      const made = json(
        cli(
          'operators',
          'add',
          '--name',
          'ab.viewer',
          '--role',
          'viewer',
          '--issuer',
          'bank-b',
          '--issuer',
          'bank-a',
          '--format',
          'json',
        ),
      );
      assert.deepEqual([made.allIssuers, made.issuers], [false, ['bank-a', 'bank-b']]);
      const staff = json(
        cli(
          'operators',
          'add',
          '--name',
          'p.viewer',
          '--role',
          'viewer',
          '--all-issuers',
          '--format',
          'json',
        ),
      );
      assert.deepEqual([staff.allIssuers, staff.issuers], [true, []]);
      const listed = json(cli('operators', 'list', '--format', 'json'));
      assert.deepEqual(listed.find((o: { name: string }) => o.name === 'ab.viewer').issuers, [
        'bank-a',
        'bank-b',
      ]);
    });

    it('the console: an issuer switcher for operators of several issuers, and one issuer per page', {
      skip: dialect.name !== 'sqlite' && 'the console reads the same API on either database',
    }, async () => {
      const browser = await launchBrowser();
      if (!browser) return;
      try {
        const signIn = async (name: string, password: string) => {
          const page = await (await browser.newContext()).newPage();
          await page.goto(`${adminUrl}/login`);
          await page.fill('input[name="username"]', name);
          await page.fill('input[name="password"]', password);
          await page.click('button[type="submit"]');
          await page.waitForSelector('.kpi');
          return page;
        };
        const rowsBy = (page: Page) =>
          page.$$eval('#notifications-table tbody tr', (rows) =>
            rows.map((r) => (r as unknown as { dataset: { issuer: string } }).dataset.issuer),
          );
        const staff = await signIn('processor.admin', passwords.all);
        await staff.goto(`${adminUrl}/#/notifications`);
        await staff.waitForFunction(
          () =>
            document.querySelectorAll('#notifications-table tbody tr[data-issuer="bank-a"]')
              .length > 0 &&
            document.querySelectorAll('#notifications-table tbody tr[data-issuer="bank-b"]')
              .length > 0,
        );
        await staff.selectOption('#issuer-switch', 'bank-b');
        // The page mounted again for bank-b: its own rows, bank-b's only.
        await staff.waitForSelector('main[data-issuer="bank-b"] #notifications-table tbody tr');
        const shown = await rowsBy(staff);
        assert.equal(shown.length, ids.bCount);
        assert.ok(
          shown.every((i) => i === 'bank-b'),
          JSON.stringify(shown),
        );
        // The choice holds across pages: the deliveries page asks for bank-b's.
        const asked = staff.waitForRequest((r) => r.url().includes('/api/deliveries?'));
        await staff.goto(`${adminUrl}/#/deliveries`);
        assert.match((await asked).url(), /issuer=bank-b/);
        await staff.waitForSelector('#sinks-table .sink-card');
        const cards = await staff.$$eval('#sinks-table .sink-card', (els) =>
          els.map((e) => (e as unknown as { textContent: string }).textContent),
        );
        assert.equal(cards.length, 2, 'b-core and the shared sink');
        assert.ok(!cards.some((t) => t.includes('a-core')));
        await staff.screenshot({ path: `${SCREENSHOTS}/issuer-switch.png` });

        const bAdmin = await signIn('b.admin', passwords.b);
        await bAdmin.goto(`${adminUrl}/#/notifications`);
        await bAdmin.waitForSelector('#notifications-table tbody tr');
        assert.equal(await bAdmin.$('#issuer-switch'), null, 'one issuer: no switcher');
        assert.ok((await rowsBy(bAdmin)).every((i) => i === 'bank-b'));
      } finally {
        await browser.close();
      }
    });
  });
}
