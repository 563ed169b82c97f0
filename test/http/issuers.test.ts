import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { register } from 'prom-client';
import { parseConfig } from '../../src/config/load-config.js';
import { onlyIssuers } from '../../src/domain/issuer-scope.js';
import { ConfigError } from '../../src/errors.js';
import { loadSecrets } from '../../src/keys/load-secrets.js';
import { runCli } from '../support/cli-process.js';
import { type Dialect, dialects } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { rawSql } from '../support/raw-sql.js';
import {
  configFor,
  NOTIFICATION_PATH,
  startTestServer,
  type TestServer,
} from '../support/server-harness.js';
import { processTempDir } from '../support/temp-dir.js';
import { type TestPki, testPki } from '../support/test-pki.js';
import {
  SECRET_A,
  SECRET_B,
  startTwoIssuersWithSinks,
  twoIssuers,
} from '../support/two-issuers.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const pathOf = (base: string) => `${base}${NOTIFICATION_PATH}`;

for (const dialect of await dialects()) {
  describe(`several issuers in one deployment (${dialect.name})`, () => {
    let pki: TestPki;
    let server: TestServer;
    let drop: () => Promise<void>;

    before(async () => {
      pki = await testPki();
      const dir = processTempDir('ctp-issuers-');
      const db = await (dialect as Dialect).create();
      drop = db.drop;
      server = await startTestServer(pki, {
        storageUrl: db.url,
        issuers: twoIssuers(pki, dir),
        extra: { risk: { enabled: false } },
      });
    });
    after(async () => {
      await server?.close();
      await drop?.();
    });

    const send = async (base: string, encryptTo: 'first' | 'second', secret: string) => {
      const encryptedData = await server.encode(enrollmentPayload(), { encryptTo });
      const res = await server.post(
        { encryptedData },
        { rawPath: pathOf(base), xPayToken: { secret } },
      );
      return { status: res.status, encryptedData };
    };

    const rowsOf = (encryptedData: string) =>
      rawSql(server.runtime.store).all(
        'SELECT issuer, status, reason, data_key_id FROM notifications WHERE encrypted_data = ? ORDER BY issuer',
        [encryptedData],
      );

    it("each issuer's endpoint opens only its own issuer's messages, stored under that issuer with its data key", async () => {
      const a = await send('/bank-a', 'first', SECRET_A);
      assert.equal(a.status, 200);
      assert.deepEqual(await rowsOf(a.encryptedData), [
        { issuer: 'bank-a', status: 'accepted', reason: null, data_key_id: 'a1' },
      ]);
      const b = await send('/bank-b', 'second', SECRET_B);
      assert.equal(b.status, 200);
      assert.deepEqual(await rowsOf(b.encryptedData), [
        { issuer: 'bank-b', status: 'accepted', reason: null, data_key_id: 'b1' },
      ]);
    });

    it("a message for bank-a's key sent to bank-b's endpoint is an unknown kid there, and stays bank-b's", async () => {
      const encryptedData = await server.encode(enrollmentPayload(), { encryptTo: 'first' });
      const atB = await server.post(
        { encryptedData },
        { rawPath: pathOf('/bank-b'), xPayToken: { secret: SECRET_B } },
      );
      assert.equal(atB.status, 500, 'JWE_KID_UNKNOWN: Visa retries');
      assert.deepEqual(await rowsOf(encryptedData), [
        { issuer: 'bank-b', status: 'quarantined', reason: 'JWE_KID_UNKNOWN', data_key_id: null },
      ]);
      // The same envelope at its own issuer's endpoint is a notification of that issuer.
      const atA = await server.post(
        { encryptedData },
        { rawPath: pathOf('/bank-a'), xPayToken: { secret: SECRET_A } },
      );
      assert.equal(atA.status, 200);
      assert.deepEqual(await rowsOf(encryptedData), [
        { issuer: 'bank-a', status: 'accepted', reason: null, data_key_id: 'a1' },
        { issuer: 'bank-b', status: 'quarantined', reason: 'JWE_KID_UNKNOWN', data_key_id: null },
      ]);
    });

    it("an envelope accepted at bank-a and sent again to bank-b's endpoint leaves bank-a's row as it was", async () => {
      const encryptedData = await server.encode(enrollmentPayload(), { encryptTo: 'first' });
      const post = (base: string, secret: string) =>
        server.post({ encryptedData }, { rawPath: pathOf(base), xPayToken: { secret } });
      assert.equal((await post('/bank-a', SECRET_A)).status, 200);
      assert.equal((await post('/bank-b', SECRET_B)).status, 500);
      assert.equal((await post('/bank-a', SECRET_A)).status, 200, "a retry at bank-a's endpoint");
      assert.deepEqual(await rowsOf(encryptedData), [
        { issuer: 'bank-a', status: 'accepted', reason: null, data_key_id: 'a1' },
        { issuer: 'bank-b', status: 'quarantined', reason: 'JWE_KID_UNKNOWN', data_key_id: null },
      ]);
    });

    it("bank-a's X-Pay-Token fails on bank-b's endpoint, and nothing is stored", async () => {
      const r = await send('/bank-b', 'second', SECRET_A);
      assert.equal(r.status, 401);
      assert.deepEqual(await rowsOf(r.encryptedData), []);
    });

    it('an unknown base path, or none where no issuer has the empty one, is 404 with nothing stored', async () => {
      for (const base of ['/bank-c', '', '/BANK-A', '/bank-a/bank-b', '//bank-a', '/bank-a/']) {
        const r = await send(base, 'first', SECRET_A);
        assert.equal(r.status, 404, base || '(none)');
        assert.equal(r.status, 404);
        assert.deepEqual(await rowsOf(r.encryptedData), [], base);
      }
    });

    it("a percent-encoded spelling of bank-a's segment is routed as bank-a, where the X-Pay-Token does not match", async () => {
      // The router decodes the segment; the token covers the path as Visa sends it.
      const r = await send('/bank%2Da', 'first', SECRET_A);
      assert.equal(r.status, 401);
      assert.deepEqual(await rowsOf(r.encryptedData), []);
    });

    it('notifications list takes --issuer (required with several) and lists that issuer only', async () => {
      const file = join(processTempDir('ctp-issuers-cli-'), 'config.json');
      writeFileSync(file, JSON.stringify(server.config));
      const none = runCli(['notifications', 'list', '--config', file]);
      assert.equal(none.status, 2);
      assert.match(none.stderr, /--issuer is required: one of bank-a, bank-b/);
      assert.equal(
        runCli(['notifications', 'list', '--config', file, '--issuer', 'bank-c']).status,
        2,
      );
      const listed = runCli([
        'notifications',
        'list',
        '--config',
        file,
        '--issuer',
        'bank-b',
        '--format',
        'json',
      ]);
      assert.equal(listed.status, 0, listed.stderr);
      const items = JSON.parse(listed.stdout) as { issuer: string }[];
      assert.ok(items.length > 0);
      assert.deepEqual([...new Set(items.map((i) => i.issuer))], ['bank-b']);
      const viaFilter = await server.runtime.store
        .openAdminStores()
        .notifications.search({ scope: onlyIssuers(['bank-a']), limit: 200 });
      assert.ok(viaFilter.length > 0);
      assert.ok(viaFilter.every((n) => n.issuer === 'bank-a'));
    });

    it('request metrics are labelled by issuer, and by none when no issuer matched', async () => {
      // The registry is the test process's: counted as differences over this test's requests.
      const count = async (labels: Record<string, string>) => {
        const metric = register.getSingleMetric('ctp_notify_requests_total');
        const { values } = await (
          metric as {
            get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }>;
          }
        ).get();
        const v = values.find((x) =>
          Object.entries(labels).every(([k, want]) => x.labels[k] === want),
        );
        return v?.value ?? 0;
      };
      const cases = [
        [
          { outcome: 'accepted', status: '200', issuer: 'bank-a' },
          () => send('/bank-a', 'first', SECRET_A),
        ],
        [
          { outcome: 'accepted', status: '200', issuer: 'bank-b' },
          () => send('/bank-b', 'second', SECRET_B),
        ],
        [
          { outcome: 'rejected', status: '401', issuer: 'bank-b' },
          () => send('/bank-b', 'second', SECRET_A),
        ],
        [
          { outcome: 'rejected', status: '404', issuer: '' },
          () => send('/bank-z', 'first', SECRET_A),
        ],
      ] as const;
      for (const [labels, request] of cases) {
        const before = await count(labels);
        await request();
        assert.equal(await count(labels), before + 1, JSON.stringify(labels));
      }
    });

    it('the one log line per request names the issuer', async () => {
      await send('/bank-b', 'second', SECRET_B);
      const line = server.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'visa request')
        .at(-1);
      assert.equal(line?.issuer, 'bank-b');
      assert.equal(line?.status, 200);
    });
  });
}

describe("each issuer's sinks", () => {
  it("get that issuer's events only; a top-level sink gets every issuer's", async () => {
    const pki = await testPki();
    const dir = processTempDir('ctp-issuers-sinks-');
    const rx = await new WebhookReceiver().start();
    const db = await (await dialects())[0]!.create();
    let server: TestServer | undefined;
    try {
      server = await startTwoIssuersWithSinks(pki, dir, db.url, rx.url);
      const sent = { a: [] as string[], b: [] as string[] };
      for (let i = 0; i < 3; i++)
        for (const [k, base, to, secret] of [
          ['a', '/bank-a', 'first', SECRET_A],
          ['b', '/bank-b', 'second', SECRET_B],
        ] as const) {
          const encryptedData = await server.encode(enrollmentPayload(), { encryptTo: to });
          const r = await server.post(
            { encryptedData },
            { rawPath: pathOf(base), xPayToken: { secret } },
          );
          assert.equal(r.status, 200);
          const [row] = await rawSql(server.runtime.store).all<{ id: string }>(
            'SELECT id FROM notifications WHERE encrypted_data = ?',
            [encryptedData],
          );
          sent[k].push(`evt_${row!.id}`);
        }
      const ids = (path: string) =>
        rx
          .answered(path)
          .map((r) => (JSON.parse(r.body) as { id: string }).id)
          .sort();
      await eventually(
        async () => (ids('/all').length === 6 ? true : undefined),
        "every issuer's events at the top-level sink",
      );
      await eventually(
        async () => (ids('/a').length === 3 && ids('/b').length === 3 ? true : undefined),
        "each issuer's events at its own sink",
      );
      assert.deepEqual(ids('/a'), [...sent.a].sort());
      assert.deepEqual(ids('/b'), [...sent.b].sort());
      assert.deepEqual(ids('/all'), [...sent.a, ...sent.b].sort());
    } finally {
      await server?.close();
      await rx.close();
      await db.drop();
    }
  });

  it('sink names are unique across the deployment, named under the issuer', () => {
    const pki = {
      issuerKid: 'a',
      issuerKid2: 'b',
      files: { issuerKey: '/k/a.pem', issuerKey2: '/k/b.pem' },
    };
    const dir = processTempDir('ctp-issuers-sink-names-');
    const [a, b] = twoIssuers(pki as unknown as TestPki, dir);
    const hook = {
      name: 'core',
      type: 'webhook',
      url: 'https://core.example/h',
      secrets: [{ env: 'X' }],
    };
    assert.throws(
      () =>
        parseConfig(
          {
            storage: { url: 'sqlite::memory:' },
            keys: { verification: [{ kid: 'v', certificate: '/v.pem' }] },
            risk: { enabled: false },
            sinks: [hook],
            issuers: [a, { ...b, sinks: [hook] }],
          },
          '/etc/ctp',
        ),
      (e: unknown) => e instanceof ConfigError && e.field === '/issuers/1/sinks/0/name',
    );
  });
});

describe("each issuer's X-Pay-Token secret", () => {
  it('is its own: one secret for two issuers is refused at start, naming the second', async () => {
    const pki = await testPki();
    const [a, b] = twoIssuers(pki, processTempDir('ctp-issuers-xpt-'));
    const config = configFor(pki, {
      storageUrl: 'sqlite::memory:',
      issuers: [a!, { ...b, auth: a!.auth }],
      extra: { risk: { enabled: false } },
    });
    assert.throws(
      () => loadSecrets(config),
      (e: unknown) =>
        e instanceof ConfigError && e.field === '/issuers/1/auth/xPayToken/sharedSecret/file',
    );
  });
});

describe('an issuer with card ranges', () => {
  it('accepts a card inside them, and quarantines one outside them (400, BIN_NOT_ISSUER) keeping no card data', async () => {
    const pki = await testPki();
    const dir = processTempDir('ctp-issuers-bin-');
    const db = await (await dialects())[0]!.create();
    let server: TestServer | undefined;
    try {
      server = await startTestServer(pki, {
        storageUrl: db.url,
        issuers: twoIssuers(pki, dir, ['400000-400999']),
        extra: { risk: { enabled: false } },
      });
      const inside = await server.encode(enrollmentPayload(), { encryptTo: 'second' });
      assert.equal(
        (
          await server.post(
            { encryptedData: inside },
            { rawPath: pathOf('/bank-b'), xPayToken: { secret: SECRET_B } },
          )
        ).status,
        200,
        'a test card (BIN 400000) is inside 400000-400999',
      );
      const encryptedData = await server.encode(
        enrollmentPayload({ accountNumber: '5100000000000008' }),
        { encryptTo: 'second' },
      );
      const r = await server.post(
        { encryptedData },
        { rawPath: pathOf('/bank-b'), xPayToken: { secret: SECRET_B } },
      );
      assert.equal(r.status, 400);
      assert.deepEqual(
        await rawSql(server.runtime.store).all(
          'SELECT issuer, status, reason, pan_fingerprint, pan_ciphertext, first_name FROM notifications WHERE encrypted_data = ?',
          [encryptedData],
        ),
        [
          {
            issuer: 'bank-b',
            status: 'quarantined',
            reason: 'BIN_NOT_ISSUER',
            pan_fingerprint: null,
            pan_ciphertext: null,
            first_name: null,
          },
        ],
      );
    } finally {
      await server?.close();
      await db.drop();
    }
  });
});

describe('issuers in the configuration', () => {
  const base = (extra: Record<string, unknown>) => ({
    storage: { url: 'sqlite::memory:' },
    risk: { enabled: false },
    keys: { verification: [{ kid: 'v', certificate: '/etc/ctp/visa.pem' }] },
    ...extra,
  });
  const issuer = (id: string, basePath: string, dataKeyId = `${id}-k`) => ({
    id,
    basePath,
    keys: { decryption: [{ kid: `${id}-enc`, privateKey: `${id}.pem` }] },
    dataProtection: {
      keys: [{ id: dataKeyId, file: `${id}.key` }],
      fingerprintKey: { file: `${id}.fp` },
    },
  });
  const refused = (input: unknown, field: string | RegExp) =>
    assert.throws(
      () => parseConfig(input, '/etc/ctp'),
      (e: unknown) =>
        e instanceof ConfigError &&
        (typeof field === 'string' ? e.field === field : field.test(e.field)),
      String(field),
    );

  it('a configuration without issuers is the one issuer `default`, at the endpoint without a segment', () => {
    const c = parseConfig(
      base({
        keys: {
          decryption: [{ kid: 'e', privateKey: 'e.pem' }],
          verification: [{ kid: 'v', certificate: 'v.pem' }],
        },
        dataProtection: { keys: [{ id: 'k1', file: 'k1' }], fingerprintKey: { file: 'fp' } },
        tokenRequestorIds: ['40010030273'],
      }),
      '/etc/ctp',
    );
    assert.equal(c.issuers.length, 1);
    const [only] = c.issuers;
    assert.equal(only?.id, 'default');
    assert.equal(only?.basePath, '');
    assert.equal(only?.at, '');
    assert.deepEqual(only?.tokenRequestorIds, ['40010030273']);
    assert.equal(only?.keys.decryption[0]?.privateKey, '/etc/ctp/e.pem');
  });

  it('issuers come from the list and from issuersDir, paths resolved against the config file', () => {
    const tmp = processTempDir('ctp-issuers-dir-');
    {
      mkdirSync(join(tmp, 'issuers.d'));
      writeFileSync(
        join(tmp, 'issuers.d', 'bank-b.json'),
        JSON.stringify(issuer('bank-b', '/bank-b')),
      );
      writeFileSync(join(tmp, 'issuers.d', 'notes.txt'), 'not an issuer');
      const c = parseConfig(
        base({
          issuers: [issuer('bank-a', '/bank-a')],
          issuersDir: 'issuers.d',
          risk: { enabled: false },
        }),
        tmp,
      );
      assert.deepEqual(
        c.issuers.map((i) => [i.id, i.name, i.basePath]),
        [
          ['bank-a', 'bank-a', '/bank-a'],
          ['bank-b', 'bank-b', '/bank-b'],
        ],
      );
      assert.equal(
        c.issuers[1]?.keys.decryption[0]?.privateKey,
        join(tmp, 'bank-b.pem'),
        "an issuer file's paths resolve like the config's",
      );
      writeFileSync(
        join(tmp, 'issuers.d', 'bank-c.json'),
        JSON.stringify({ ...issuer('bank-c', '/bank-c'), id: 'Bank C' }),
      );
      refused(
        base({ issuersDir: join(tmp, 'issuers.d') }),
        `${join(tmp, 'issuers.d', 'bank-c.json')}#/id`,
      );
    }
  });

  it('refuses what would mix issuers up, naming the field', () => {
    const a = issuer('bank-a', '/bank-a');
    refused(
      base({ issuers: [a, { ...issuer('bank-b', '/bank-b'), id: 'bank-a' }] }),
      '/issuers/1/id',
    );
    refused(base({ issuers: [a, issuer('bank-b', '/bank-a')] }), '/issuers/1/basePath');
    refused(
      base({ issuers: [a, issuer('bank-b', '/bank-b', 'bank-a-k')] }),
      '/issuers/1/dataProtection/keys/0/id',
    );
    refused(base({ issuers: [a], tokenRequestorIds: ['40010030273'] }), '/tokenRequestorIds');
    refused(base({ issuers: [a], dataProtection: a.dataProtection }), '/dataProtection');
    refused(base({ issuers: [{ ...a, basePath: '/two/segments' }] }), '/issuers/0/basePath');
    refused(base({ issuers: [{ ...a, id: 'x'.repeat(33) }] }), '/issuers/0/id');
    refused(
      base({ issuers: [a, issuer('bank-b', '/bank-b')], risk: { enabled: true } }),
      '/risk/enabled',
    );
    refused(base({}), '/keys/decryption');
    refused(
      base({ issuers: [a], keys: { ...base({}).keys, decryption: a.keys.decryption } }),
      '/keys/decryption',
    );
    refused(
      base({ issuers: [a], auth: { xPayToken: { sharedSecret: { env: 'X' } } } }),
      '/auth/xPayToken',
    );
    refused(
      base({ issuers: [a, { ...issuer('bank-b', '/bank-b'), keys: a.keys }] }),
      '/issuers/1/keys/decryption/0',
    );
  });
});
