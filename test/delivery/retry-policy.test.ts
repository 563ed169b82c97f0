import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import {
  nextRetry,
  parseHttpDate,
  parseRetryAfter,
  retryDelayMs,
} from '../../src/delivery/retry-policy.js';
import { parseWebhookSecret } from '../../src/delivery/standard-webhooks.js';
import { classifyResponse, WebhookClient } from '../../src/delivery/webhook-client.js';

const retry = { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 5 };
const now = Date.parse('2026-03-01T10:00:00Z');

describe('shared retry policy', () => {
  it('Retry-After delay-seconds', () => {
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter(' 42 ', now), 42_000);
    assert.equal(parseRetryAfter(['3', '9'], now), 3000, 'the first of a repeated header');
  });

  it('Retry-After HTTP-date in all three RFC 9110 forms, relative to now, never negative', () => {
    assert.equal(parseRetryAfter('Sun, 01 Mar 2026 10:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('Sunday, 01-Mar-26 10:00:05 GMT', now), 5000);
    assert.equal(
      parseRetryAfter('Sun Mar  1 10:00:02 2026', now),
      2000,
      'asctime is GMT, not local time',
    );
    assert.equal(parseRetryAfter('Sat, 28 Feb 2026 10:00:00 GMT', now), 0);
    assert.equal(
      parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now),
      Date.UTC(1994, 10, 6, 8, 49, 37),
      'two-digit year of the past century',
    );
    assert.equal(
      parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', now),
      Date.UTC(1994, 10, 6, 8, 49, 37),
    );
  });

  it('garbage Retry-After is ignored (undefined), so the computed backoff applies', () => {
    const garbage = [
      '',
      'soon',
      '-5',
      '1.5',
      '0x10',
      '5 s',
      'Sun, 01 Mar 2026 10:01:00',
      'Sun, 31 Feb 2026 10:00:00 GMT',
    ];
    for (const bad of [
      ...garbage,
      'Sun, 01 Mar 2026 25:00:00 GMT',
      '2026-03-01T10:01:00Z',
      'Mar 1 2026',
      'Sunday, 01-Foo-26 10:00:05 GMT',
    ]) {
      assert.equal(parseRetryAfter(bad, now), undefined, bad);
    }
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter([], now), undefined);
    assert.equal(
      retryDelayMs(3, retry, parseRetryAfter('soon', now), () => 0),
      2000,
    );
  });

  it('Retry-After replaces the backoff but is capped at maxDelayMs, seconds and dates alike', () => {
    assert.equal(
      retryDelayMs(5, retry, parseRetryAfter('1', now), () => 1),
      1000,
      'shorter than the backoff: the receiver is believed',
    );
    assert.equal(
      retryDelayMs(1, retry, parseRetryAfter('86400', now), () => 0),
      60_000,
    );
    assert.equal(
      retryDelayMs(1, retry, parseRetryAfter('Mon, 02 Mar 2026 10:00:00 GMT', now), () => 0),
      60_000,
    );
    assert.equal(retryDelayMs(1, retry, -1), 0);
  });

  it('exponential with equal jitter between half and all of initialDelayMs · 2^(attempt-1), capped', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => retryDelayMs(a, retry, undefined, () => 0)),
      [500, 1000, 2000, 4000],
    );
    assert.deepEqual(
      [1, 2, 3, 4].map((a) => retryDelayMs(a, retry, undefined, () => 0.5)),
      [750, 1500, 3000, 6000],
    );
    assert.equal(
      retryDelayMs(7, retry, undefined, () => 1),
      60_000,
    );
    assert.equal(
      retryDelayMs(1000, retry, undefined, () => 0),
      30_000,
    );
  });

  it('nextRetry: dead after maxAttempts or on a permanent failure', () => {
    assert.deepEqual(
      nextRetry(1, retry, {}, () => 0),
      { dead: false, delayMs: 500 },
    );
    assert.equal(nextRetry(4, retry, {}).dead, false);
    assert.equal(nextRetry(5, retry, {}).dead, true);
    assert.equal(nextRetry(1, retry, { permanent: true }).dead, true);
    assert.deepEqual(nextRetry(2, retry, { retryAfterMs: 3000 }), { dead: false, delayMs: 3000 });
    assert.deepEqual(
      nextRetry(3, retry, { retryAfterMs: 0 }),
      { dead: false, delayMs: retry.initialDelayMs / 2 },
      'Retry-After: 0 waits the shortest backoff step, so the attempts are not all spent at once',
    );
  });
});

describe('webhook client', () => {
  it('classifies responses the same for deliveries and alerts', () => {
    assert.deepEqual(classifyResponse(204, undefined, now), { ok: true, httpStatus: 204 });
    assert.deepEqual(classifyResponse(503, '2', now), {
      ok: false,
      code: 'HTTP_503',
      permanent: false,
      httpStatus: 503,
      retryAfterMs: 2000,
    });
    assert.deepEqual(classifyResponse(429, 'soon', now), {
      ok: false,
      code: 'HTTP_429',
      permanent: false,
      httpStatus: 429,
    });
    assert.deepEqual(
      classifyResponse(500, '2', now),
      { ok: false, code: 'HTTP_500', permanent: false, httpStatus: 500 },
      'Retry-After only on 429/503',
    );
    assert.deepEqual(classifyResponse(410, undefined, now), {
      ok: false,
      code: 'HTTP_410',
      permanent: true,
      httpStatus: 410,
    });
    const permanent = (status: number) => {
      const r = classifyResponse(status, undefined, now);
      return r.ok ? undefined : r.permanent;
    };
    for (const s of [400, 401, 404, 422]) assert.equal(permanent(s), true, String(s));
    for (const s of [302, 408, 500, 502]) assert.equal(permanent(s), false, String(s));
  });

  let server: Server;
  let url = '';
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  let reply: (res: import('node:http').ServerResponse) => void = (res) => res.writeHead(200).end();
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        got.push({ headers: req.headers, body });
        reply(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('signs with every secret (verified by standardwebhooks), reads the answer, times out, reports a refused connection', async () => {
    const secrets = [
      `whsec_${randomBytes(32).toString('base64')}`,
      `whsec_${randomBytes(32).toString('base64')}`,
    ];
    const client = new WebhookClient({
      url,
      keys: secrets.map(parseWebhookSecret),
      timeoutMs: 300,
      nowSeconds: () => Math.floor(Date.now() / 1000),
    });
    try {
      const body = Buffer.from(JSON.stringify({ type: 'test', n: 1 }), 'utf8');
      reply = (res) => res.writeHead(503, { 'retry-after': '4' }).end('x'.repeat(100_000));
      assert.deepEqual(await client.post('msg_1', body), {
        ok: false,
        code: 'HTTP_503',
        permanent: false,
        httpStatus: 503,
        retryAfterMs: 4000,
      });
      reply = (res) => res.writeHead(202).end();
      assert.deepEqual(await client.post('msg_1', body), { ok: true, httpStatus: 202 });
      for (const g of got) {
        assert.equal(g.headers['webhook-id'], 'msg_1');
        assert.equal(g.headers['content-type'], 'application/json');
        for (const s of secrets)
          assert.deepEqual(new Webhook(s).verify(g.body, g.headers as Record<string, string>), {
            type: 'test',
            n: 1,
          });
      }
      reply = () => {};
      assert.deepEqual(await client.post('msg_2', body), {
        ok: false,
        code: 'TIMEOUT',
        permanent: false,
      });
    } finally {
      await client.close();
    }
    const refused = new WebhookClient({
      url: 'http://127.0.0.1:9/none',
      keys: [randomBytes(32)],
      timeoutMs: 2000,
    });
    assert.deepEqual(await refused.post('msg_3', Buffer.from('{}')), {
      ok: false,
      code: 'CONNECTION',
      permanent: false,
    });
    await refused.close();
  });
});
