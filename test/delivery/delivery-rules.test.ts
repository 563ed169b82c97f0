import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { parseConfig } from '../../src/config/load-config.js';
import { parseRetryAfter, retryDelayMs } from '../../src/delivery/retry-policy.js';
import {
  parseWebhookSecret,
  standardWebhookHeaders,
} from '../../src/delivery/standard-webhooks.js';
import { ConfigError } from '../../src/errors.js';
import { eventTypeName } from '../../src/events/ctp-event.js';

const retry = { initialDelayMs: 1000, maxDelayMs: 3_600_000, maxAttempts: 12 };

describe('backoff', () => {
  it('doubles from initialDelayMs with equal jitter, capped at maxDelayMs', () => {
    for (let attempt = 1; attempt <= 30; attempt++) {
      const full = Math.min(3_600_000, 1000 * 2 ** (attempt - 1));
      assert.equal(
        retryDelayMs(attempt, retry, undefined, () => 0),
        full / 2,
      );
      assert.equal(
        retryDelayMs(attempt, retry, undefined, () => 0.999999),
        Math.round(full / 2 + 0.999999 * (full / 2)),
      );
    }
    // 12 attempts = 11 waits: 1 s, 2 s, … 1024 s, each between half and all of that.
    const span = (r: number) =>
      Array.from({ length: 11 }, (_, i) => retryDelayMs(i + 1, retry, undefined, () => r)).reduce(
        (a, b) => a + b,
        0,
      );
    assert.equal(span(0), 2047_000 / 2);
    assert.equal(span(1), 2047_000);
  });

  it('Retry-After replaces the computed delay, capped at maxDelayMs', () => {
    assert.equal(
      retryDelayMs(1, retry, 30_000, () => 0.5),
      30_000,
    );
    assert.equal(retryDelayMs(9, retry, 0), 0);
    assert.equal(retryDelayMs(1, retry, 86_400_000), 3_600_000);
  });

  it('parses Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3)', () => {
    const now = Date.parse('2026-03-01T10:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Sun, 01 Mar 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('-5', now), undefined);
  });
});

describe('Standard Webhooks signing', () => {
  it('is verified by the standardwebhooks package for each secret; several sign at once', () => {
    const secrets = [
      `whsec_${randomBytes(24).toString('base64')}`,
      `whsec_${randomBytes(64).toString('base64')}`,
    ];
    const body = Buffer.from(
      JSON.stringify({ type: 'ctp.enrollment_attempt', note: 'ünïcödé' }),
      'utf8',
    );
    const ts = Math.floor(Date.now() / 1000);
    const headers = standardWebhookHeaders(secrets.map(parseWebhookSecret), 'evt_1', ts, body);
    assert.match(headers['webhook-signature']!, /^v1,[A-Za-z0-9+/]+=* v1,[A-Za-z0-9+/]+=*$/);
    for (const s of secrets)
      assert.deepEqual(
        new Webhook(s).verify(body.toString('utf8'), headers),
        JSON.parse(body.toString('utf8')),
      );
    assert.throws(
      () =>
        new Webhook(secrets[0]!).verify(body.toString('utf8'), {
          ...headers,
          'webhook-id': 'evt_2',
        }),
      /No matching signature/,
    );
    assert.throws(
      () =>
        new Webhook(secrets[0]!).verify(body.toString('utf8'), {
          ...headers,
          'webhook-timestamp': String(ts + 1),
        }),
      /No matching signature/,
    );
  });

  it('secrets must be whsec_ + base64 of 24 to 64 bytes; errors never echo the secret', () => {
    for (const bad of [
      '',
      'abc',
      `whsec_${randomBytes(16).toString('base64')}`,
      `whsec_${randomBytes(65).toString('base64')}`,
      'whsec_!!!!invalid!!!!',
      `${randomBytes(32).toString('base64')}`,
    ]) {
      assert.throws(
        () => parseWebhookSecret(bad),
        (e: Error) => bad.length < 12 || !e.message.includes(bad.slice(6, 16)),
      );
    }
    assert.equal(parseWebhookSecret(`whsec_${randomBytes(32).toString('base64')}`).length, 32);
  });
});

describe('sinks configuration', () => {
  const base = {
    storage: { url: 'sqlite:/tmp/x.sqlite' },
    keys: {
      decryption: [{ kid: 'a', privateKey: 'a.pem' }],
      verification: [{ kid: 'v', certificate: 'v.pem' }],
    },
    dataProtection: { keys: [{ id: 'k', env: 'K' }], fingerprintKey: { env: 'F' } },
  };
  const hook = {
    name: 'fraud-ops',
    type: 'webhook',
    url: 'https://fraud.bank.example/hooks/ctp',
    secrets: [{ env: 'FRAUD_OPS_WHSEC' }],
  };
  const fails = (sinks: unknown[], field: string, extra: object = {}) =>
    assert.throws(
      () => parseConfig({ ...base, ...extra, sinks }, '/etc/ctp'),
      (e: unknown) => e instanceof ConfigError && e.field === field,
    );

  it("fills the issue's defaults and resolves secret files against the config's folder", () => {
    const c = parseConfig(
      {
        ...base,
        sinks: [
          hook,
          {
            name: 'core',
            type: 'rabbitmq',
            url: 'amqp://mq.bank.example',
            password: { file: 'mq.pw' },
          },
        ],
      },
      '/etc/ctp',
    );
    assert.deepEqual(c.sinks[0]?.retry, {
      initialDelayMs: 1000,
      maxDelayMs: 3_600_000,
      maxAttempts: 12,
    });
    assert.equal(c.sinks[0]?.timeoutMs, 10_000);
    assert.equal(c.sinks[0]?.includePan, false);
    assert.equal(c.sinks[1]?.type === 'rabbitmq' && c.sinks[1].exchange, 'ctp-notify');
    assert.deepEqual(c.sinks[1]?.type === 'rabbitmq' && c.sinks[1].password, {
      file: '/etc/ctp/mq.pw',
    });
    assert.deepEqual(c.delivery, { runInServe: true, pollIntervalMs: 500, leaseMs: 60_000 });
    assert.deepEqual(parseConfig(base, '/').sinks, []);
  });

  it('names the offending field', () => {
    fails([{ ...hook, url: undefined }], '/sinks/0/url');
    fails([{ ...hook, url: 'ftp://x' }], '/sinks/0/url');
    fails([{ ...hook, type: 'kafka' }], '/sinks/0/type');
    fails([{ ...hook, retry: { maxAttempts: 0 } }], '/sinks/0/retry/maxAttempts');
    fails([hook, { ...hook }], '/sinks/1/name');
    fails([{ ...hook, name: 'Fraud Ops' }], '/sinks/0/name');
    fails([{ ...hook, secrets: undefined }], '/sinks/0/secrets');
    fails([{ ...hook, secrets: [] }], '/sinks/0/secrets');
    fails([{ ...hook, secrets: [{ env: 'S', file: 'f' }] }], '/sinks/0/secrets/0');
    fails(
      [{ name: 'core', type: 'rabbitmq', url: 'amqp://x', password: { file: 'a', env: 'B' } }],
      '/sinks/0/password',
    );
    fails([{ name: 'core', type: 'rabbitmq', url: 'amqp://x', queue: 'q' }], '/sinks/0/queue');
    fails([{ ...hook, timeoutMs: 60_000 }], '/sinks/0/timeoutMs');
    fails(
      [{ ...hook, retry: { initialDelayMs: 5000, maxDelayMs: 1000 } }],
      '/sinks/0/retry/initialDelayMs',
    );
  });

  it('refuses full card numbers over plain HTTP or AMQP, naming the url (PCI DSS 4.2.1), loopback included', () => {
    const mq = { name: 'core', type: 'rabbitmq', password: { env: 'MQ_PASSWORD' } };
    for (const sink of [
      { ...hook, url: 'http://fraud.bank.example/hooks/ctp' },
      { ...hook, url: 'http://127.0.0.1:9000/hooks/ctp' },
      { ...mq, url: 'amqp://mq.bank.example' },
      { ...mq, url: 'amqp://[::1]:5672' },
    ]) {
      assert.throws(
        () =>
          parseConfig(
            { ...base, sinks: [hook, { ...sink, name: 'pci', includePan: true }] },
            '/etc/ctp',
          ),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.field === '/sinks/1/url' &&
          /includePan .* must be https:\/\/ or amqps:\/\//.test(e.message),
        sink.url,
      );
      // The same sink without card numbers is allowed on a trusted network.
      parseConfig({ ...base, sinks: [{ ...sink, includePan: false }] }, '/etc/ctp');
    }
    const c = parseConfig(
      {
        ...base,
        sinks: [
          { ...hook, includePan: true },
          { ...mq, url: 'amqps://mq.bank.example', includePan: true },
        ],
      },
      '/etc/ctp',
    );
    assert.deepEqual(
      c.sinks.map((x) => x.includePan),
      [true, true],
    );
  });
});

describe('event type names', () => {
  it("map Visa's eventType to a dotted lower-case type (also the routing key)", () => {
    assert.equal(eventTypeName('CTP_ENROLLMENT_ATTEMPT'), 'ctp.enrollment_attempt');
    assert.equal(eventTypeName('CTP_ENROLLMENT_UPDATE'), 'ctp.enrollment_update');
    assert.equal(eventTypeName('TOKEN_EVENT'), 'ctp.token_event');
  });
});
