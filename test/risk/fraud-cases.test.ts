import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { Webhook } from 'standardwebhooks';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { type AnswerEvent, AnswerEventSchema } from '../../src/events/answer-event.js';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { attemptPayload, fixtureHolder, importHolders } from '../support/cardholder-fixtures.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { assertNoPersonalData } from '../support/personal-data.js';
import { secretEnv } from '../support/secret-env.js';
import { waitFor } from '../support/wait-for.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

// JSON Schema's date-time, for checking events against the published schema.
if (!FormatRegistry.Has('date-time'))
  FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));

const BROKER = process.env.CTP_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const HOUR = 3_600_000;

async function brokerAvailable(): Promise<boolean> {
  try {
    const c = await amqp.connect(BROKER, { timeout: 2000 });
    await c.close();
    return true;
  } catch {
    return false;
  }
}
const broker = await brokerAvailable();
if (!broker) {
  if (process.env.CI === 'true')
    throw new Error(`RabbitMQ is required under CI=true but ${BROKER} does not answer`);
  process.stdout.write(
    `# SKIPPING the RabbitMQ half of the answer event: ${BROKER} does not answer\n`,
  );
}

const stranger = (i: number) => ({
  firstName: 'Eve',
  lastName: `Mallory${i}`,
  email: `eve.${i}.${randomBytes(3).toString('hex')}@example.net`,
  phone: `+4477009${String(90_000 + i).slice(-5)}`,
});

for (const dialect of await dialects()) {
  describe(`fraud cases and the cardholder's answer on ${dialect.name}`, () => {
    let db: TestDatabase;
    let env: AdminTestEnv;
    let clock = 0; // hours added to the admin side's clock
    const rx = new WebhookReceiver();
    const whsec = `whsec_${randomBytes(32).toString('base64')}`;
    const run = randomBytes(4).toString('hex');
    const exchange = `ctp-cases-${run}`;
    let consumer: ChannelModel | undefined;
    let ch: Channel | undefined;
    const messages: ConsumeMessage[] = [];

    before(async () => {
      await rx.start();
      if (broker) {
        consumer = await amqp.connect(BROKER);
        ch = await consumer.createChannel();
        await ch.assertExchange(exchange, 'topic', { durable: true });
        const q = await ch.assertQueue('', { exclusive: true });
        await ch.bindQueue(q.queue, exchange, 'ctp.#');
        await ch.consume(q.queue, (m) => m && messages.push(m), { noAck: true });
      }
      db = await dialect.create();
      env = await startAdminEnv(db.url, {
        now: () => Date.now() + clock * HOUR,
        sinks: [
          {
            name: 'core',
            type: 'webhook',
            url: `${rx.url}/core`,
            secrets: [secretEnv(whsec)],
            timeoutMs: 2000,
          },
          ...(broker
            ? [{ name: 'queue', type: 'rabbitmq', url: BROKER, exchange, timeoutMs: 2000 }]
            : []),
        ],
        shared: {
          risk: {
            defaultCountry: 'GB',
            cases: { slaHours: 24, closeOnRecognised: true },
            alert: {
              bankName: 'Example Bank',
              helpContact: 'call 0800 000 000',
              windowSeconds: 0,
              answerWindowHours: 72,
              sink: {
                type: 'webhook',
                url: `${rx.url}/alerts`,
                secrets: [secretEnv(whsec)],
                timeoutMs: 2000,
              },
              retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3 },
            },
          },
        },
      });
      env.visa.runtime.startBackground();
    });
    after(async () => {
      await env.close();
      await rx.close();
      await ch?.deleteExchange(exchange).catch(() => {});
      await consumer?.close().catch(() => {});
      await db.drop();
    });

    const token = (role: keyof AdminTestEnv['operators']) => env.operators[role].apiToken;
    const send = async (pan: string, who: Parameters<typeof attemptPayload>[1]) => {
      const res = await env.visa.post({
        encryptedData: await env.visa.encode(attemptPayload(pan, who)),
      });
      assert.equal(res.status, 200);
      const [n] = await env.visa.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 });
      await waitFor('the assessment', () => env.visa.runtime.risk!.stores.risk.isAssessed(n!.id));
      return n!.id;
    };
    /** The alert sent for a notification, as the bank's messaging webhook received it. */
    const alertFor = (notificationId: string) =>
      waitFor('the alert', () => {
        const r = rx
          .answered('/alerts')
          .map((x) => JSON.parse(x.body) as { id: string; notificationId: string })
          .find((b) => b.notificationId === notificationId);
        return r?.id;
      });
    const answer = (
      alertId: string,
      body: unknown,
      role: keyof AdminTestEnv['operators'] = 'channel',
    ) => env.call('POST', `/api/alerts/${alertId}/answer`, { token: token(role), body });

    it('a high-risk attempt opens a case, a later attempt joins it; assigned, noted, closed; all audited', async () => {
      const h = fixtureHolder();
      await importHolders(env.visa, [h]);
      const first = await send(h.pan, stranger(1));
      // The cardholder's own attempt: below the case level, it joins the open case all the same.
      const second = await send(h.pan, {
        firstName: h.firstName,
        lastName: h.lastName,
        email: h.email,
        phone: h.phone,
      });

      const list = await env.call('GET', '/api/cases?status=open', { token: token('viewer') });
      assert.equal(list.status, 200);
      const item = list.json.items.find(
        (c: { panLast4: string }) => c.panLast4 === h.pan.slice(-4),
      );
      assert.ok(item, 'a case for the card');
      assert.deepEqual(
        [item.level, item.openedBy, item.attemptCount, item.overdue, item.assignee],
        ['high', 'assessment', 2, false, null],
      );
      const detail = await env.call('GET', `/api/cases/${item.id}`, { token: token('viewer') });
      assert.deepEqual(
        detail.json.attempts.map((a: { notificationId: string }) => a.notificationId),
        [first, second],
      );
      assert.ok(
        detail.json.attempts[0].risk.reasons.some(
          (r: { code: string }) => r.code === 'NAME_MISMATCH',
        ),
      );
      // Below minLevel (medium: a second enroller on the card), it joined all the same.
      assert.equal(detail.json.attempts[1].risk.level, 'medium');

      // Viewers read; analysts work cases.
      assert.equal(
        (
          await env.call('POST', `/api/cases/${item.id}/assign`, {
            token: token('viewer'),
            body: { assignee: 'vera.viewer' },
          })
        ).status,
        403,
      );
      assert.equal(
        (
          await env.call('POST', `/api/cases/${item.id}/assign`, {
            token: token('analyst'),
            body: { assignee: 'vera.viewer' },
          })
        ).json.error.code,
        'ASSIGNEE_INVALID',
        'only analysts and admins take cases',
      );
      const assigned = await env.call('POST', `/api/cases/${item.id}/assign`, {
        token: token('analyst'),
        body: { assignee: 'anna.analyst' },
      });
      assert.deepEqual(
        [assigned.status, assigned.json.status, assigned.json.assignee],
        [200, 'in_review', 'anna.analyst'],
      );
      const mine = await env.call('GET', '/api/cases?assignee=anna.analyst', {
        token: token('viewer'),
      });
      assert.deepEqual(
        mine.json.items.map((c: { id: string }) => c.id),
        [item.id],
      );
      assert.equal(
        (
          await env.call('POST', `/api/cases/${item.id}/notes`, {
            token: token('analyst'),
            body: { text: 'Called the cardholder: not them.' },
          })
        ).status,
        200,
      );
      const closed = await env.call('POST', `/api/cases/${item.id}/disposition`, {
        token: token('analyst'),
        body: { disposition: 'confirmed_fraud', note: 'Stranger with a throwaway phone.' },
      });
      assert.deepEqual(
        [closed.json.status, closed.json.disposition, closed.json.closedBy],
        ['closed', 'confirmed_fraud', 'anna.analyst'],
      );
      const again = await env.call('POST', `/api/cases/${item.id}/disposition`, {
        token: token('analyst'),
        body: { disposition: 'legitimate', note: 'second thoughts' },
      });
      assert.deepEqual([again.status, again.json.error.code], [409, 'CASE_CLOSED']);
      const notes = (await env.call('GET', `/api/cases/${item.id}`, { token: token('viewer') }))
        .json.notes;
      assert.deepEqual(
        notes.map((n: { kind: string }) => n.kind),
        ['opened', 'attempt', 'attempt', 'assigned', 'note', 'closed'],
      );
      assert.equal(notes[4].text, 'Called the cardholder: not them.');

      // A new attempt after the case closed opens no case of its own (low risk).
      await send(h.pan, {
        firstName: h.firstName,
        lastName: h.lastName,
        email: h.email,
        phone: h.phone,
      });
      assert.equal(
        (
          await env.call('GET', '/api/cases?status=open', { token: token('viewer') })
        ).json.items.filter((c: { panLast4: string }) => c.panLast4 === h.pan.slice(-4)).length,
        0,
      );

      const audit = await env.call('GET', '/api/audit?action=case.', { token: token('admin') });
      const actions = audit.json.items.map(
        (e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`,
      );
      for (const a of [
        'case.view:ok',
        'case.assign:ok',
        'case.assign:denied',
        'case.note:ok',
        'case.disposition:ok',
        'case.disposition:denied',
      ])
        assert.ok(actions.includes(a), a);
      assert.ok(
        !audit.text.includes('Called the cardholder'),
        "a note's text is not in the audit log",
      );
    });

    it('a case open longer than risk.cases.slaHours is flagged overdue and comes first', async () => {
      const h = fixtureHolder();
      await importHolders(env.visa, [h]);
      await send(h.pan, stranger(2));
      const find = async (q: string) =>
        (await env.call('GET', `/api/cases${q}`, { token: token('viewer') })).json.items.find(
          (c: { panLast4: string }) => c.panLast4 === h.pan.slice(-4),
        );
      assert.equal((await find('?overdue=false')).overdue, false);
      assert.equal(await find('?overdue=true'), undefined);
      clock = 25;
      try {
        const late = await find('?overdue=true');
        assert.equal(late.overdue, true);
        const queue = (await env.call('GET', '/api/cases', { token: token('viewer') })).json.items;
        assert.equal(queue[0].overdue, true, 'overdue first');
      } finally {
        clock = 0;
      }
    });

    it('answers: channel tokens only, one per alert, unknown and expired refused with stable codes', async () => {
      const h = fixtureHolder();
      await importHolders(env.visa, [h]);
      const id = await send(h.pan, {
        firstName: h.firstName,
        lastName: h.lastName,
        email: h.email,
        phone: h.phone,
      });
      const alertId = await alertFor(id);

      for (const role of ['viewer', 'analyst', 'admin'] as const)
        assert.equal((await answer(alertId, { answer: 'recognised' }, role)).status, 403, role);
      // A channel token does nothing else.
      const other = await env.call('GET', '/api/notifications', { token: token('channel') });
      assert.deepEqual([other.status, other.json.error.code], [403, 'FORBIDDEN']);
      assert.equal((await env.call('GET', '/api/me', { token: token('channel') })).status, 403);
      assert.equal((await answer(alertId, { answer: 'maybe' })).status, 400);

      const first = await answer(alertId, { answer: 'recognised' });
      assert.deepEqual(
        [first.status, first.json.answer, first.json.caseId],
        [200, 'recognised', null],
      );
      const second = await answer(alertId, { answer: 'not_recognised' });
      assert.deepEqual([second.status, second.json.error.code], [409, 'ALERT_ALREADY_ANSWERED']);
      const unknown = await answer('0195a1b2-0000-7000-8000-000000000abc', {
        answer: 'recognised',
      });
      assert.deepEqual([unknown.status, unknown.json.error.code], [404, 'ALERT_NOT_FOUND']);

      const late = await send(h.pan, {
        firstName: h.firstName,
        lastName: h.lastName,
        email: h.email,
        phone: h.phone,
      });
      const lateAlert = await alertFor(late);
      clock = 73;
      try {
        const expired = await answer(lateAlert, { answer: 'not_recognised' });
        assert.deepEqual([expired.status, expired.json.error.code], [410, 'ALERT_EXPIRED']);
      } finally {
        clock = 0;
      }
      const audit = await env.call('GET', '/api/audit?action=alert.answer', {
        token: token('admin'),
      });
      assert.ok(
        audit.json.items.some(
          (e: { actor: string; outcome: string }) => e.actor === 'bank.app' && e.outcome === 'ok',
        ),
      );
      assert.ok(
        audit.json.items.some(
          (e: { outcome: string; detail: { code?: string } }) => e.detail?.code === 'ALERT_EXPIRED',
        ),
      );
    });

    it('"not recognised" opens a case whatever the score and sends ctp.cardholder_answer to every sink, anonymously', async () => {
      const h = fixtureHolder();
      await importHolders(env.visa, [h]);
      const id = await send(h.pan, {
        firstName: h.firstName,
        lastName: h.lastName,
        email: h.email,
        phone: h.phone,
      });
      const alertId = await alertFor(id);
      const res = await answer(alertId, { answer: 'not_recognised' });
      assert.equal(res.status, 200);
      assert.equal(res.json.events, broker ? 2 : 1);
      const c = (await env.call('GET', `/api/cases/${res.json.caseId}`, { token: token('viewer') }))
        .json;
      assert.deepEqual([c.openedBy, c.level, c.status], ['cardholder_answer', 'low', 'open']);
      assert.ok(c.escalatedAt);
      assert.equal(c.attempts[0].alert.answer, 'not_recognised');

      const delivered = await waitFor('the answer event at the webhook', () =>
        rx.answered('/core').find((r) => r.headers['webhook-id'] === `evt_${alertId}`),
      );
      const event = new Webhook(whsec).verify(delivered.body, {
        'webhook-id': String(delivered.headers['webhook-id']),
        'webhook-timestamp': String(delivered.headers['webhook-timestamp']),
        'webhook-signature': String(delivered.headers['webhook-signature']),
      }) as AnswerEvent;
      assert.ok(Value.Check(AnswerEventSchema, event), 'matches the published schema');
      assert.deepEqual(
        [event.type, event.answer, event.notificationId, event.enrollmentEventId, event.caseId],
        ['ctp.cardholder_answer', 'not_recognised', id, `evt_${id}`, c.id],
      );
      assert.equal(event.card?.last4, h.pan.slice(-4));
      assert.equal(event.card?.pan, undefined);
      assert.equal(event.risk?.level, 'low');
      assertNoPersonalData(delivered.body, 'the answer event');
      for (const v of [h.firstName, h.lastName, h.email, h.phone, h.pan])
        assert.ok(!delivered.body.includes(v), 'no personal value in the answer event');
      if (broker) {
        const m = await waitFor('the answer event on RabbitMQ', () =>
          messages.find((x) => x.properties.messageId === `evt_${alertId}`),
        );
        assert.equal(m.fields.routingKey, 'ctp.cardholder_answer');
        assert.deepEqual(JSON.parse(m.content.toString('utf8')), event);
      }
      // The delivery shows as the answer's event in the outbox.
      const deliveries = await env.call('GET', `/api/deliveries?notificationId=${id}`, {
        token: token('viewer'),
      });
      assert.ok(
        deliveries.json.items.some(
          (d: { event: string; eventId: string }) =>
            d.event === 'cardholder_answer' && d.eventId === `evt_${alertId}`,
        ),
      );
    });

    it('"not recognised" escalates the open case; "recognised" closes one as legitimate (closeOnRecognised)', async () => {
      const h = fixtureHolder();
      await importHolders(env.visa, [h]);
      const bad = await send(h.pan, stranger(3));
      const alertId = await alertFor(bad);
      const res = await answer(alertId, { answer: 'not_recognised' });
      const c = (await env.call('GET', `/api/cases/${res.json.caseId}`, { token: token('viewer') }))
        .json;
      assert.deepEqual(
        [c.openedBy, c.level, c.attemptCount],
        ['assessment', 'high', 1],
        'the same case, escalated',
      );
      assert.ok(c.escalatedAt);

      const g = fixtureHolder();
      await importHolders(env.visa, [g]);
      const odd = await send(g.pan, stranger(4));
      const ok = await answer(await alertFor(odd), { answer: 'recognised' });
      assert.deepEqual([ok.json.caseStatus], ['closed']);
      const closed = (
        await env.call('GET', `/api/cases/${ok.json.caseId}`, { token: token('viewer') })
      ).json;
      assert.deepEqual([closed.disposition, closed.closedBy], ['legitimate', 'bank.app']);
    });

    it('the OpenAPI document describes the case routes, the answer (channel only) and the evaluation', async () => {
      const doc = (await env.call('GET', '/api/openapi.json')).json;
      const op = (path: string, method: string) => doc.paths[path]?.[method];
      for (const [path, method, role] of [
        ['/api/cases', 'get', 'viewer'],
        ['/api/cases/{id}', 'get', 'viewer'],
        ['/api/cases/{id}/assign', 'post', 'analyst'],
        ['/api/cases/{id}/notes', 'post', 'analyst'],
        ['/api/cases/{id}/disposition', 'post', 'analyst'],
        ['/api/alerts/{id}/answer', 'post', 'channel'],
        ['/api/risk/evaluation', 'get', 'viewer'],
      ] as const)
        assert.equal(op(path, method)?.['x-min-role'], role, `${method} ${path}`);
      assert.ok(op('/api/alerts/{id}/answer', 'post').responses['410']);
      assert.equal(
        op('/api/cases', 'get').responses['200'].content['application/json'].schema.title,
        'CasePage',
      );
    });

    it('no card number, name, email or phone in any log line', () => {
      assertNoPersonalData(env.adminLogs.join('\n'), 'admin logs');
      assertNoPersonalData(env.visa.logs.join('\n'), 'service logs');
      assert.ok(env.adminLogs.some((l) => l.includes('cardholder answered')));
    });
  });
}

// The committed schema file is the TypeBox definition (`npm run schemas` rewrites it).
describe('the answer event schema', () => {
  it('schemas/ctp-cardholder-answer.v1.json is the TypeBox definition', async () => {
    const { answerEventSchemaJson } = await import('../../src/events/event-schema-json.js');
    const committed = readFileSync(
      new URL('../../../schemas/ctp-cardholder-answer.v1.json', import.meta.url),
      'utf8',
    );
    assert.equal(committed, answerEventSchemaJson());
  });
});
