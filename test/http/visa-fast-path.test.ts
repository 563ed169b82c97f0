import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { visaExchange } from '../../src/http/visa-exchange.js';
import { installFastPath, visaFastPath } from '../../src/http/visa-fast-path.js';
import { createLogger } from '../../src/logger.js';
import { serviceMetrics } from '../../src/metrics/service-metrics.js';
import type { NotificationPipeline } from '../../src/pipeline/notification-pipeline.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { assertNoPersonalData, enrollmentPayload } from '../support/personal-data.js';
import { NOTIFICATION_PATH, startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

interface Probe {
  name: string;
  method?: string;
  path?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
}

const QUERY = 'eventType=CTP_ENROLLMENT_ATTEMPT';

async function send(server: TestServer, p: Probe) {
  const body = p.body ?? '';
  const headers: Record<string, string> = { 'content-type': 'application/json', ...p.headers };
  const res = await request(
    `${server.url}${p.path ?? NOTIFICATION_PATH}${p.query === '' ? '' : `?${p.query ?? QUERY}`}`,
    {
      method: (p.method ?? 'POST') as 'POST',
      headers,
      body: p.method === 'GET' ? undefined : p.chunked ? Readable.from([Buffer.from(body)]) : body,
    },
  );
  const text = await res.body.text();
  const { date: _date, ...rest } = res.headers;
  return { status: res.statusCode, body: text, headers: rest };
}

/** The last "visa request" line's decision, without what differs per run (ids, timing). */
function lastDecision(server: TestServer) {
  const line = [...server.logs]
    .reverse()
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'visa request');
  assert.ok(line, 'a visa request line');
  assert.match(String(line.reqId), /^req-[0-9a-z]+$/);
  const { status, outcome, code, tokenRequestorId, eventType, result } = line;
  return { status, outcome, code, tokenRequestorId, eventType, result };
}

describe('Visa route fast path', () => {
  let dbs: TestDatabase[];
  let fast: TestServer;
  let general: TestServer;

  before(async () => {
    const pki = await testPki();
    dbs = [await sqliteDialect.create(), await sqliteDialect.create()];
    const common = { tokenRequestorIds: ['40010030273', '40010030274'], basePath: '/ctp' };
    fast = await startTestServer(pki, { ...common, storageUrl: dbs[0]!.url, fastPath: true });
    general = await startTestServer(pki, { ...common, storageUrl: dbs[1]!.url, fastPath: false });
  });
  after(async () => {
    await fast.close();
    await general.close();
    for (const db of dbs) await db.drop();
  });

  it('answers every probe as the Fastify route does: status, headers, empty body, log line and stored rows', async () => {
    const valid = JSON.stringify({ encryptedData: await fast.encode(enrollmentPayload()) });
    const other = JSON.stringify({ encryptedData: await fast.encode(enrollmentPayload()) });
    const chunked = JSON.stringify({ encryptedData: await fast.encode(enrollmentPayload()) });
    const [h, p, sig] = JSON.parse(valid).encryptedData.split('.') as [string, string, string];
    const tampered = JSON.stringify({ encryptedData: `${h}.${p}.${sig.slice(0, -4)}AAAA` });
    const unknownKid = JSON.stringify({
      encryptedData: await fast.encode(enrollmentPayload(), { encryptTo: 'second' }),
    });
    const quarantined = JSON.stringify({
      encryptedData: await fast.encode({ not: 'an enrollment' }),
    });
    const base = '/ctp';
    const path = `${base}${NOTIFICATION_PATH}`;
    const probes: Probe[] = [
      { name: 'valid', path, body: valid },
      { name: 'retry', path, body: valid },
      {
        name: 'charset',
        path,
        body: other,
        headers: { 'content-type': 'application/json; charset=utf-8' },
      },
      { name: 'chunked', path, body: chunked, chunked: true },
      { name: 'tampered signature', path, body: tampered },
      { name: 'unknown JWE kid', path, body: unknownKid },
      { name: 'not an enrollment', path, body: quarantined },
      { name: 'not JSON', path, body: '{"encryptedData":' },
      { name: 'no encryptedData', path, body: '{}' },
      { name: 'empty body', path, body: '' },
      { name: 'text/plain', path, body: valid, headers: { 'content-type': 'text/plain' } },
      { name: 'no eventType', path, body: valid, query: '' },
      { name: 'other eventType', path, body: valid, query: 'eventType=SOMETHING_ELSE' },
      { name: 'repeated eventType', path, body: valid, query: `${QUERY}&${QUERY}` },
      {
        name: 'token requestor not allowed',
        path: path.replace('40010030273', '40010030275'),
        body: valid,
      },
      {
        name: 'token requestor of 10 digits',
        path: path.replace('40010030273', '4001003027'),
        body: valid,
      },
      {
        name: 'percent-encoded digit',
        path: path.replace('40010030273', '%340010030273'.slice(0, 14)),
        body: valid,
      },
      { name: 'trailing slash', path: `${path}/`, body: valid },
      { name: 'without the base path', path: NOTIFICATION_PATH, body: valid },
      { name: 'GET', path, method: 'GET' },
      { name: 'PUT', path, method: 'PUT', body: valid },
      {
        name: 'over the body limit',
        path,
        body: JSON.stringify({ encryptedData: 'a'.repeat(20_000) }),
      },
    ];
    for (const probe of probes) {
      const a = await send(fast, probe);
      const b = await send(general, probe);
      assert.deepEqual(a, b, `${probe.name}: same answer both ways`);
      assert.equal(a.body, '', `${probe.name}: empty body`);
      assert.deepEqual(
        lastDecision(fast),
        lastDecision(general),
        `${probe.name}: same log line both ways`,
      );
    }
    const rows = async (s: TestServer) =>
      (await s.runtime.store.list({ limit: 100 }))
        .map((r) => ({
          status: r.status,
          reason: r.reason,
          attempts: r.visaAttempts,
          last4: r.panLast4,
        }))
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    const stored = await rows(fast);
    assert.deepEqual(stored, await rows(general));
    assert.equal(
      stored.filter((r) => r.status === 'accepted').length,
      3,
      'valid (twice), charset and chunked: three rows',
    );
    assertNoPersonalData(fast.logs.join(''), 'fast path logs');
  });
});

describe('Visa route fast path: which requests it takes', () => {
  let server: Server;
  let url: string;
  const taken: string[] = [];
  const passed: string[] = [];

  before(async () => {
    const pipeline = {
      handle: async () => ({ kind: 'accepted', id: 'x', result: 'inserted' }),
    } as unknown as NotificationPipeline;
    const fp = visaFastPath({
      exchange: visaExchange({ pipeline, basePath: '', inspectClientCertificate: false }),
      basePath: '',
      bodyLimit: 1024,
      logger: createLogger('silent'),
      metrics: serviceMetrics(),
      nextRequestId: () => 'req-1',
    });
    server = createServer((_req, res) => res.writeHead(299).end());
    installFastPath(server, (req, res) => {
      const took = fp(req, res);
      (took ? taken : passed).push(
        `${req.method} ${req.url} ${req.headers['content-type'] ?? '-'}`,
      );
      return took;
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('takes the ordinary shape only and hands everything else to the general listener', async () => {
    const go = async (
      method: string,
      path: string,
      contentType: string | undefined,
      body?: string | Readable,
    ) => {
      const res = await request(`${url}${path}`, {
        method: method as 'POST',
        headers: contentType ? { 'content-type': contentType } : {},
        body,
      });
      await res.body.text();
      return res.statusCode;
    };
    const p = NOTIFICATION_PATH;
    assert.equal(await go('POST', `${p}?${QUERY}`, 'application/json', '{}'), 200);
    assert.equal(await go('POST', p, 'Application/JSON; charset="UTF-8"', '{}'), 200);
    assert.equal(
      await go('POST', `${p}?${QUERY}`, 'application/json', Readable.from([Buffer.from('{}')])),
      299,
      'chunked',
    );
    assert.equal(
      await go('POST', `${p}?${QUERY}`, 'application/json', 'x'.repeat(1025)),
      299,
      'over the limit',
    );
    assert.equal(await go('POST', `${p}?${QUERY}`, 'application/jsonx', '{}'), 299);
    assert.equal(await go('POST', `${p}?${QUERY}`, undefined, '{}'), 299);
    assert.equal(await go('GET', `${p}?${QUERY}`, undefined), 299);
    assert.equal(await go('POST', `${p}/?${QUERY}`, 'application/json', '{}'), 299);
    assert.equal(
      await go('POST', `${p.replace('40010030273', '4001003027a')}`, 'application/json', '{}'),
      299,
    );
    assert.equal(taken.length, 2, taken.join('\n'));
    assert.equal(passed.length, 7, passed.join('\n'));
  });
});
