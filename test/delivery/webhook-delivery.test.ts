import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Webhook } from 'standardwebhooks';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { type CtpEvent, CtpEventSchema } from '../../src/events/ctp-event.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { assertNoPersonalData, enrollmentPayload } from '../support/personal-data.js';
import { secretEnv } from '../support/secret-env.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';
import { waitFor } from '../support/wait-for.js';
import { type ReceivedRequest, WebhookReceiver } from '../support/webhook-receiver.js';

// TypeBox checks formats only when told how (RFC 3339 date-time, as JSON Schema means it).
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set(
    'date-time',
    (v) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) &&
      !Number.isNaN(Date.parse(v)),
  );
}

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

for (const dialect of await dialects()) {
  describe(`webhook delivery on ${dialect.name}`, () => {
    const [s1, s2, s3] = [secret(), secret(), secret()];
    const rx = new WebhookReceiver();
    // Card numbers go only over TLS (PCI DSS 4.2.1): the includePan sink has a receiver of its
    // own, over HTTPS, trusting the test CA.
    let pciRx: WebhookReceiver;
    let db: TestDatabase;
    let s: TestServer;
    let goneAnswers410 = true;
    let downAnswers503 = true;
    const payloads = [enrollmentPayload(), enrollmentPayload()];
    const pans = payloads.map(
      (p) =>
        (p.enrollment as { paymentInstrument: { accountNumber: string } }).paymentInstrument
          .accountNumber,
    );
    let eventIds: string[] = [];

    before(async () => {
      await rx.start();
      const pki = await testPki();
      pciRx = await new WebhookReceiver({
        tls: { cert: pki.files.serverCert, key: pki.files.serverKey },
      }).start();
      pciRx.respond = () => ({ status: 200 });
      rx.respond = (req, seen) => {
        if (req.path === '/flaky')
          return seen === 0
            ? { status: 500 }
            : seen === 1
              ? { status: 429, headers: { 'retry-after': '1' } }
              : { status: 200 };
        if (req.path === '/gone') return { status: goneAnswers410 ? 410 : 204 };
        if (req.path === '/down') return { status: downAnswers503 ? 503 : 202 };
        return { status: 200 };
      };
      const sink = (name: string, extra: object) => ({
        name,
        type: 'webhook',
        url: `${rx.url}/${name}`,
        timeoutMs: 2000,
        ...extra,
      });
      db = await dialect.create();
      s = await startTestServer(pki, {
        storageUrl: db.url,
        delivery: true,
        extra: {
          sinks: [
            sink('flaky', {
              secrets: [secretEnv(s1), secretEnv(s2)],
              retry: { initialDelayMs: 20, maxDelayMs: 2000, maxAttempts: 6 },
            }),
            sink('pci', {
              url: `${pciRx.url}/pci`,
              caFile: pki.files.caCert,
              secrets: [secretEnv(s3)],
              includePan: true,
            }),
            sink('gone', { secrets: [secretEnv(s3)], concurrency: 1 }),
            sink('down', {
              secrets: [secretEnv(s3)],
              retry: { initialDelayMs: 10, maxDelayMs: 40, maxAttempts: 3 },
            }),
          ],
          delivery: { pollIntervalMs: 20, leaseMs: 5000 },
        },
      });
      for (const p of payloads)
        assert.equal((await s.post({ encryptedData: await s.encode(p) })).status, 200);
      const stored = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 10 });
      eventIds = stored.map((n) => `evt_${n.id}`).reverse();
    });
    after(async () => {
      await s.close();
      await rx.close();
      await pciRx.close();
      await db.drop();
    });

    const verify = (r: ReceivedRequest, secrets: string[]): CtpEvent => {
      const headers = {
        'webhook-id': String(r.headers['webhook-id']),
        'webhook-timestamp': String(r.headers['webhook-timestamp']),
        'webhook-signature': String(r.headers['webhook-signature']),
      };
      assert.equal(
        headers['webhook-signature'].split(' ').length,
        secrets.length,
        'one signature per secret',
      );
      // Each secret alone must verify: a receiver holding only the old or only the new one accepts.
      for (const sec of secrets) new Webhook(sec).verify(r.body, headers);
      assert.throws(() => new Webhook(secret()).verify(r.body, headers), /No matching signature/);
      assert.throws(
        () => new Webhook(secrets[0]!).verify(r.body.replace('ctp.', 'ctx.'), headers),
        /No matching signature/,
      );
      const event = JSON.parse(r.body) as CtpEvent;
      assert.ok(Value.Check(CtpEventSchema, event), 'event matches the published schema');
      assert.equal(event.id, headers['webhook-id']);
      return event;
    };

    it('reaches every sink, every attempt signed (verified with the standardwebhooks package), same event id on retries', async () => {
      await waitFor(
        'flaky and pci to receive both events',
        () => rx.answered('/flaky').length === 2 && pciRx.answered('/pci').length === 2,
      );
      // …and the worker to have recorded it (the receiver's 200 comes first).
      await waitFor(
        'flaky recorded as delivered',
        async () =>
          (await s.runtime.outbox.list({ scope: ALL_ISSUERS, sink: 'flaky', status: 'delivered' }))
            .length === 2,
      );
      for (const r of rx.requests.filter((x) => x.path === '/flaky')) verify(r, [s1, s2]);
      assert.ok(pciRx.url.startsWith('https://'));
      for (const r of pciRx.requests.filter((x) => x.path === '/pci')) verify(r, [s3]);

      for (const id of eventIds) {
        const attempts = rx.requests.filter(
          (r) => r.path === '/flaky' && r.headers['webhook-id'] === id,
        );
        assert.deepEqual(
          attempts.map((a) => a.status),
          [500, 429, 200],
        );
        // Retry-After: 1 is honoured (a lower bound; the backoff alone would be ~40 ms).
        assert.ok(attempts[2]!.at - attempts[1]!.at >= 1000, 'waited for Retry-After');
        const event = JSON.parse(attempts[2]!.body) as CtpEvent;
        assert.equal(event.type, 'ctp.enrollment_attempt');
        assert.equal(event.eventType, 'CTP_ENROLLMENT_ATTEMPT');
        assert.equal(event.card?.pan, undefined, 'no card number for a sink without includePan');
        assert.ok(!attempts.some((a) => pans.some((pan) => a.body.includes(pan))));
      }
      const pci = pciRx.answered('/pci').map((r) => JSON.parse(r.body) as CtpEvent);
      assert.deepEqual(pci.map((e) => e.id).sort(), [...eventIds].sort());
      for (const e of pci) {
        const i = payloads.findIndex(
          (p) => (p.clientInformation as { firstName: string }).firstName === e.enroller.firstName,
        );
        assert.equal(e.card?.pan, pans[i], 'the includePan sink gets the full card number');
        assert.equal(e.card?.last4, pans[i]!.slice(-4));
      }
      const outcomes = s.outcomes
        .filter((o) => o.sink === 'flaky')
        .map((o) => `${o.attempt}:${o.outcome}:${o.error ?? ''}`);
      assert.deepEqual(outcomes.sort(), [
        '1:retry:HTTP_500',
        '1:retry:HTTP_500',
        '2:retry:HTTP_429',
        '2:retry:HTTP_429',
        '3:delivered:',
        '3:delivered:',
      ]);
      const flaky = await s.runtime.outbox.list({ scope: ALL_ISSUERS, sink: 'flaky' });
      assert.deepEqual(
        flaky.map((d) => [d.status, d.attempts, d.lastError]),
        [
          ['delivered', 3, 'HTTP_429'],
          ['delivered', 3, 'HTTP_429'],
        ],
      );
    });

    it('410 disables the sink: nothing more is sent to it, nothing is lost, and it resumes when enabled', async () => {
      await waitFor(
        'the sink to be disabled',
        async () =>
          (await s.runtime.outbox.sinkStates()).find((x) => x.name === 'gone')?.disabledAt,
      );
      // flaky took over a second: plenty of time for the gone lane to try the second event had it
      // not stopped.
      assert.equal(rx.requests.filter((r) => r.path === '/gone').length, 1);
      const waiting = await s.runtime.outbox.list({ scope: ALL_ISSUERS, sink: 'gone' });
      assert.equal(waiting.length, 2);
      assert.ok(waiting.every((d) => d.status !== 'delivered' && d.status !== 'dead'));

      goneAnswers410 = false;
      assert.equal(await s.runtime.outbox.enableSink('gone'), true);
      await waitFor('gone to receive both events', () => rx.answered('/gone').length === 2);
      for (const r of rx.answered('/gone')) verify(r, [s3]);
      assert.deepEqual(
        new Set(rx.answered('/gone').map((r) => r.headers['webhook-id'])),
        new Set(eventIds),
      );
    });

    it('dead-letters after maxAttempts; retrying the dead delivers them', async () => {
      await waitFor(
        'both down deliveries to be dead',
        async () =>
          (await s.runtime.outbox.list({ scope: ALL_ISSUERS, sink: 'down', status: 'dead' }))
            .length === 2,
      );
      assert.equal(
        rx.requests.filter((r) => r.path === '/down').length,
        6,
        'three attempts each, then no more',
      );
      downAnswers503 = false;
      assert.equal(
        await s.runtime.outbox.retry({ scope: ALL_ISSUERS, dead: true, sink: 'down' }),
        2,
      );
      await waitFor(
        'down recorded as delivered',
        async () =>
          (await s.runtime.outbox.list({ scope: ALL_ISSUERS, sink: 'down', status: 'delivered' }))
            .length === 2,
      );
      assert.equal(rx.answered('/down').length, 2);
      const delivered = await s.runtime.outbox.list({
        scope: ALL_ISSUERS,
        sink: 'down',
        status: 'delivered',
      });
      assert.equal(delivered.length, 2);
    });

    it('logs carry ids and codes, never personal data', () => {
      assert.ok(s.logs.some((l) => l.includes('"outcome":"delivered"')));
      assert.ok(s.logs.some((l) => l.includes('"outcome":"sink-disabled"')));
      assert.ok(s.logs.some((l) => l.includes('"outcome":"dead"')));
      assertNoPersonalData(s.logs.join('\n'));
    });
  });
}

describe('published event schema', () => {
  it('schemas/ctp-event.v1.json is the TypeBox definition (run `npm run schemas` after changing it)', async () => {
    const { eventSchemaJson } = await import('../../src/events/event-schema-json.js');
    const committed = readFileSync(
      new URL('../../../schemas/ctp-event.v1.json', import.meta.url),
      'utf8',
    );
    assert.equal(committed, eventSchemaJson());
  });
});
