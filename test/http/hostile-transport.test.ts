import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { xPayToken } from '../../src/visa/visa-encoder.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import {
  assertContract,
  InputCounter,
  memoryAfterGc,
  runs,
  spillCapturedLogs,
} from '../support/hostile-checks.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { httpRequest, type RawAnswer, type RawChunk, rawExchange } from '../support/raw-http.js';
import { NOTIFICATION_PATH, startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

// Property-based, over raw TCP so that nothing is tidied up by an HTTP client: random bytes,
// hostile headers (10,000 characters, controls, smuggling), huge and slow bodies, odd routes,
// forged X-Pay-Tokens. Every answer must be a contract status with an empty body.

const count = new InputCounter();
const ROUTE = `${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT`;
const SECRET = 'hostile-transport-shared-secret';

describe('hostile transport input against the running server', () => {
  let db: TestDatabase;
  let s: TestServer;
  let xpt: TestServer;
  const bodies: string[] = [];
  let baseline: { heapMiB: number; rssMiB: number };

  const send = async (chunks: RawChunk[], server = s, waitMs = 5000): Promise<RawAnswer> => {
    const res = await rawExchange(server.url, chunks, { waitMs });
    count.answered(res.status);
    return res;
  };
  /**
   * An answer with a contract status, or (only where `mayClose`) a server-side close without one.
   */
  const check = (res: RawAnswer, allowed: number[], what: string, mayClose = false) => {
    if (res.status === undefined && mayClose)
      return assert.ok(res.closed, `${what}: neither answered nor closed`);
    assertContract(res, allowed, what);
  };

  before(async () => {
    const pki = await testPki();
    db = await sqliteDialect.create();
    s = await startTestServer(pki, { storageUrl: db.url });
    xpt = await startTestServer(pki, { storageUrl: db.url, xPayTokenSecret: SECRET });
    for (let i = 0; i < 4; i++)
      bodies.push(JSON.stringify({ encryptedData: await s.encode(enrollmentPayload()) }));
    for (const b of bodies)
      assert.equal(
        (
          await send([
            httpRequest({ path: ROUTE, headers: { 'content-type': 'application/json' }, body: b }),
          ])
        ).status,
        200,
      );
    // fast-check builds a table of every code point (~80 MiB) the first time a 'binary' string
    // is drawn: draw one before the baseline so the figure measures the server, not the table.
    fc.sample(fc.string({ unit: 'binary', maxLength: 1 }), 1);
    baseline = memoryAfterGc();
  });
  after(async () => {
    await xpt?.close();
    await s?.close();
    await db?.drop();
  });

  it('random bytes and request-shaped garbage: a 400/404 or a closed connection, never 200 or 500', async () => {
    const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{0,12}$/);
    const requestLike = fc
      .tuple(
        fc.constantFrom('POST', 'GET', 'PUT', 'PRI', 'post', 'POST ', ''),
        fc.oneof(fc.constant(ROUTE), fc.string({ maxLength: 80 })),
        fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', ''),
        fc.array(fc.tuple(token, fc.string({ unit: 'binary-ascii', maxLength: 40 })), {
          maxLength: 6,
        }),
        fc.string({ unit: 'binary', maxLength: 200 }),
      )
      .map(
        ([m, p, v, hs, b]) =>
          `${m} ${p} ${v}\r\n${hs.map(([k, x]) => `${k}: ${x}\r\n`).join('')}\r\n${b}`,
      );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((u) => Buffer.from(u)),
          requestLike,
        ),
        async (bytes) => {
          count.add('raw bytes');
          check(
            await send([bytes]),
            [400, 401, 404],
            `bytes ${JSON.stringify(bytes.toString()).slice(0, 200)}`,
            true,
          );
        },
      ),
      { numRuns: runs(1000) },
    );
  });

  it('hostile headers on a genuine notification: 10,000 characters, controls, many, duplicated; 200 or 400 only', async () => {
    const name = fc
      .stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/)
      .filter(
        (n) =>
          !['content-length', 'transfer-encoding', 'host', 'connection', 'expect'].includes(
            n.toLowerCase(),
          ),
      );
    const value = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((v) => v.replace(/[\r\n]/g, '')),
      fc.constantFrom(
        'x'.repeat(10_000),
        'é'.repeat(3000),
        '\u0000',
        '\u007f',
        'a\tb',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, sent as text
        '${jndi:ldap://127.0.0.1/x}',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: bodies.length - 1 }),
        fc.array(fc.tuple(name, value), { maxLength: 8 }),
        fc.constantFrom(0, 0, 0, 300, 3000),
        async (bi, extra, many) => {
          const headers = [
            ['content-type', 'application/json'],
            ...extra,
            ...Array.from({ length: many }, (_, i) => [`x-many-${i}`, 'v']),
          ];
          const body = bodies[bi]!;
          const head = `POST ${ROUTE} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
          count.add('hostile headers');
          check(
            await send([Buffer.from(head, 'latin1'), body]),
            [200, 400],
            `headers ${JSON.stringify(extra).slice(0, 200)} + ${many}`,
          );
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('request smuggling shapes and lying lengths: 400 or closed, never 200', async () => {
    const body = bodies[0]!;
    const cases: [string, RawChunk[]][] = [
      [
        'CL+TE',
        [
          `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\ntransfer-encoding: chunked\r\n\r\n${body}`,
        ],
      ],
      [
        'two CL',
        [
          `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\ncontent-length: 5\r\n\r\n${body}`,
        ],
      ],
      [
        'TE identity',
        [
          `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ntransfer-encoding: identity\r\n\r\n${body}`,
        ],
      ],
      [
        'TE obfuscated',
        [
          `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ntransfer-encoding : chunked\r\n\r\n0\r\n\r\n`,
        ],
      ],
      ['CL negative', [`POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-length: -1\r\n\r\n`]],
      [
        'CL too short',
        [
          `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n${body}`,
        ],
      ],
      [
        'CL too long then EOF',
        [
          `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: ${body.length + 50}\r\n\r\n${body}`,
        ],
      ],
      [
        'bad chunk size',
        [
          `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`,
        ],
      ],
      [
        'header too large',
        [
          httpRequest({
            path: ROUTE,
            headers: { 'content-type': 'application/json', 'x-big': 'b'.repeat(20_000) },
            body,
          }),
        ],
      ],
      [
        'obs-fold',
        [
          `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\n x: folded\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
        ],
      ],
      ['CONNECT', ['CONNECT 127.0.0.1:5432 HTTP/1.1\r\nhost: 127.0.0.1:5432\r\n\r\n']],
    ];
    for (const [name, chunks] of cases) {
      count.add('smuggling and lengths');
      check(await send(chunks), [400], name, true);
    }
  });

  it('huge bodies are refused with 400 without being read in full; a body at the limit is accepted', async () => {
    const limit = s.config.listen.bodyLimitBytes;
    const padded = (n: number) =>
      bodies[1]!.replace(/}$/, `${' '.repeat(n - Buffer.byteLength(bodies[1]!))}}`);
    const post = (body: Buffer | string, headers: Record<string, string> = {}) =>
      httpRequest({
        path: ROUTE,
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const huge = Buffer.alloc(8 * 2 ** 20, 0x61);
    const chunked = [
      Buffer.from(
        `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`,
      ),
      ...Array.from({ length: 64 }, () => `20000\r\n${'a'.repeat(0x20000)}\r\n`),
      '0\r\n\r\n',
    ];
    const cases: [string, RawChunk[], number[]][] = [
      ['exactly the limit', [post(padded(limit))], [200]],
      ['limit + 1', [post(padded(limit + 1))], [400]],
      ['1 MiB JSON', [post(JSON.stringify({ encryptedData: 'a'.repeat(2 ** 20) }))], [400]],
      ['8 MiB, content-length', [post(huge)], [400]],
      ['8 MiB, chunked', chunked, [400]],
      [
        'announced 1 GiB, sends little',
        [
          `POST ${ROUTE} HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: ${2 ** 30}\r\n\r\n{}`,
        ],
        [400],
      ],
      ['deeply nested JSON', [post(`${'['.repeat(5000)}${']'.repeat(5000)}`)], [400]],
      [
        'encryptedData of 7001 characters',
        [post(JSON.stringify({ encryptedData: 'a'.repeat(7001) }))],
        [400],
      ],
    ];
    for (const [name, chunks, allowed] of cases) {
      count.add('huge bodies');
      check(await send(chunks), allowed, name);
    }
  });

  it('slow but within the deadlines: trickled headers and body are served normally', async () => {
    const body = JSON.stringify({ encryptedData: await s.encode(enrollmentPayload()) });
    const request = httpRequest({
      path: ROUTE,
      headers: { 'content-type': 'application/json' },
      body,
    });
    const at = request.indexOf('\r\n\r\n') + 4;
    const pieces = (buf: Buffer, n: number, pauseMs: number): RawChunk[] =>
      Array.from({ length: n }, (_, i) => [
        buf.subarray(Math.floor((i * buf.length) / n), Math.floor(((i + 1) * buf.length) / n)),
        { pauseMs },
      ]).flat() as RawChunk[];
    count.add('slow requests', 2);
    check(
      await send(pieces(request.subarray(0, at), 10, 30).concat([request.subarray(at)])),
      [200],
      'headers trickled',
    );
    check(
      await send([request.subarray(0, at), ...pieces(request.subarray(at), 20, 30)]),
      [200],
      'body trickled',
    );
  });

  it('odd routes, methods and queries with a genuine body: never 500, never a body, 200 only for a POST', async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 30 }).map(encodeURIComponent),
      fc.constantFrom('..', '.', '%2e%2e', '%00', '%2F', ';', 'vtis', 'v1', 'x'.repeat(3000)),
    );
    const path = fc.oneof(
      fc.array(segment, { maxLength: 8 }).map((p) => `/${p.join('/')}`),
      fc.constantFrom(
        `${NOTIFICATION_PATH}/`,
        `/${NOTIFICATION_PATH}`,
        NOTIFICATION_PATH.toUpperCase(),
        NOTIFICATION_PATH.replace('40010030273', '%34%30010030273'),
        `${NOTIFICATION_PATH}%00`,
        `${NOTIFICATION_PATH};x`,
        NOTIFICATION_PATH.replace('40010030273', '4'.repeat(300)),
        NOTIFICATION_PATH.replace('40010030273', '%'),
        '/%E0%A4%A',
      ),
      fc.constant(NOTIFICATION_PATH),
    );
    const query = fc.oneof(
      fc.constant('eventType=CTP_ENROLLMENT_ATTEMPT'),
      fc.string({ maxLength: 80 }).map(encodeURIComponent),
      fc
        .array(
          fc.tuple(fc.constantFrom('eventType', 'eventtype', 'x'), fc.string({ maxLength: 70 })),
          { maxLength: 4 },
        )
        .map((q) => new URLSearchParams(q).toString()),
    );
    const method = fc.constantFrom(
      'POST',
      'GET',
      'HEAD',
      'PUT',
      'DELETE',
      'PATCH',
      'OPTIONS',
      'TRACE',
      'PROPFIND',
      'SEARCH',
    );
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        query,
        fc.nat({ max: bodies.length - 1 }),
        async (m, p, q, bi) => {
          fc.pre(!(m === 'GET' || m === 'HEAD') || !/^\/(healthz|readyz)(\?|$)/.test(`${p}?`));
          count.add('routes and methods');
          const res = await send([
            httpRequest({
              method: m,
              path: `${p}?${q}`,
              headers: { 'content-type': 'application/json' },
              body: bodies[bi]!,
            }),
          ]);
          check(
            res,
            m === 'POST' ? [200, 400, 404] : [400, 404],
            `${m} ${p.slice(0, 100)}?${q.slice(0, 100)}`,
          );
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('forged X-Pay-Tokens are 401; only the genuine one passes', async () => {
    const body = bodies[2]!;
    const resourcePath = NOTIFICATION_PATH.slice(1);
    const q = 'eventType=CTP_ENROLLMENT_ATTEMPT';
    const now = Math.floor(Date.now() / 1000);
    const forged = fc.oneof(
      fc
        .string({ unit: 'binary-ascii', maxLength: 120 })
        // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL cannot be sent in a header
        .map((v) => v.replace(/[\r\n\u0000]/g, '')),
      fc.stringMatching(/^xv2:[0-9]{1,12}:[0-9a-fA-F]{64}$/),
      fc
        .tuple(
          fc.constantFrom('wrong-secret-of-sufficient-length', SECRET),
          fc.integer({ min: -100_000, max: 100_000 }),
          fc.constantFrom('body', 'path', 'query', 'none'),
        )
        .filter(
          ([sec, skew, what]) => !(sec === SECRET && what === 'none' && Math.abs(skew) <= 120),
        )
        .map(([sec, skew, what]) =>
          xPayToken(
            sec,
            what === 'path' ? `${resourcePath}x` : resourcePath,
            what === 'query' ? `${q}&x=1` : q,
            what === 'body' ? `${body} ` : body,
            now + skew,
          ),
        ),
      fc.constantFrom(
        '',
        ' ',
        'xv2',
        'xv2::',
        `xv2:${now}:${'0'.repeat(64)}`,
        `xv1:${now}:${'a'.repeat(64)}`,
        `xv2:${now}:${'a'.repeat(10_000)}`,
        'x'.repeat(10_000),
      ),
    );
    await fc.assert(
      fc.asyncProperty(forged, async (token) => {
        count.add('forged X-Pay-Tokens');
        const res = await send(
          [
            httpRequest({
              path: ROUTE,
              headers: { 'content-type': 'application/json', 'x-pay-token': token },
              body,
            }),
          ],
          xpt,
        );
        check(res, [400, 401], `x-pay-token ${token.slice(0, 80)}`);
      }),
      { numRuns: runs(300) },
    );
    const genuine = xPayToken(SECRET, resourcePath, q, body);
    check(
      await send(
        [
          httpRequest({
            path: ROUTE,
            headers: { 'content-type': 'application/json', 'x-pay-token': genuine },
            body,
          }),
        ],
        xpt,
      ),
      [200],
      'genuine token',
    );
  });

  it('the process is intact afterwards and its memory bounded', async () => {
    check(
      await send([
        httpRequest({
          path: ROUTE,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ encryptedData: await s.encode(enrollmentPayload()) }),
        }),
      ]),
      [200],
      'still serving',
    );
    spillCapturedLogs(s.logs, xpt.logs); // measure the server, not the test's log capture
    const end = memoryAfterGc();
    const growth = {
      heapMiB: Math.round(end.heapMiB - baseline.heapMiB),
      rssMiB: Math.round(end.rssMiB - baseline.rssMiB),
    };
    process.stdout.write(
      `# hostile transport: ${count}; heap ${growth.heapMiB} MiB, RSS ${growth.rssMiB} MiB over baseline\n`,
    );
    assert.ok(growth.heapMiB < 48, `heap grew ${growth.heapMiB} MiB`);
    assert.ok(growth.rssMiB < 256, `RSS grew ${growth.rssMiB} MiB`);
  });
});
