import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { openStore } from '../../src/storage/open-store.js';
import { encodeVisaMessage } from '../../src/visa/visa-encoder.js';
import { runCli, type ServerProcess, startServerProcess } from '../support/cli-process.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { rawSql } from '../support/raw-sql.js';
import { NOTIFICATION_PATH } from '../support/server-harness.js';
import { processTempDir } from '../support/temp-dir.js';
import { type TestPki, testPki } from '../support/test-pki.js';

const WORKERS = 2;

/** A config whose issuers are the files of `dir/issuers.d`, written to `dir/config.json`. */
function writeConfig(dir: string, pki: TestPki, storageUrl: string, extra = {}): string {
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      storage: { url: storageUrl },
      keys: { verification: [{ kid: pki.visaKid, certificate: pki.files.visaCert }] },
      issuersDir: 'issuers.d',
      risk: { enabled: false },
      ...extra,
    }),
  );
  return config;
}

/** `serve --workers 2` with its issuers in `issuers.d`; the test edits the folder and signals. */
describe('reloading the issuers (SIGHUP) while serving', () => {
  let pki: TestPki;
  let dir: string;
  let db: TestDatabase;
  let server: ServerProcess;

  const keyFile = (name: string) => {
    const p = join(dir, name);
    writeFileSync(p, randomBytes(32).toString('base64'), { mode: 0o600 });
    return p;
  };
  const issuerFile = (id: string, second: boolean) =>
    writeFileSync(
      join(dir, 'issuers.d', `${id}.json`),
      JSON.stringify({
        id,
        basePath: `/${id}`,
        keys: {
          decryption: [
            second
              ? { kid: pki.issuerKid2, privateKey: pki.files.issuerKey2 }
              : { kid: pki.issuerKid, privateKey: pki.files.issuerKey },
          ],
        },
        dataProtection: {
          keys: [{ id: `${id}-1`, file: keyFile(`${id}.key`) }],
          fingerprintKey: { file: keyFile(`${id}.fp`) },
        },
      }),
    );
  let inFlight = 0;
  const accepted = new Map<string, number>();
  const post = async (id: string, second: boolean): Promise<number> => {
    inFlight++;
    try {
      const status = await postOnce(id, second);
      if (status === 200) accepted.set(id, (accepted.get(id) ?? 0) + 1);
      return status;
    } finally {
      inFlight--;
    }
  };
  const postOnce = async (id: string, second: boolean): Promise<number> => {
    const encryptedData = await encodeVisaMessage(enrollmentPayload(), {
      signingKey: pki.visaSigningKey,
      signingKid: pki.visaKid,
      encryptionKey: second ? pki.issuerPublicKey2 : pki.issuerPublicKey,
      encryptionKid: second ? pki.issuerKid2 : pki.issuerKid,
    });
    // A connection per request, so that requests reach both workers.
    const res = await request(
      `${server.url}/${id}${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ encryptedData }),
        reset: true,
      },
    );
    await res.body.dump();
    return res.statusCode;
  };
  /** Log lines with this message written after `from` characters of output. */
  const linesAfter = (from: number, msg: string) =>
    server
      .output()
      .slice(from)
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === msg);
  /** SIGHUP, then every worker's line saying how it went. */
  const reload = async (msg: string) => {
    const from = server.output().length;
    server.child.kill('SIGHUP');
    return eventually(async () => {
      const lines = linesAfter(from, msg);
      return lines.length >= WORKERS ? lines : undefined;
    }, `${WORKERS} × "${msg}"`);
  };

  before(async () => {
    pki = await testPki();
    dir = processTempDir('ctp-reload-');
    mkdirSync(join(dir, 'issuers.d'));
    db = await sqliteDialect.create();
    issuerFile('bank-a', false);
    const config = writeConfig(dir, pki, db.url);
    server = await startServerProcess(['--config', config, '--workers', String(WORKERS)]);
  });
  after(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('adds an issuer under load: every request in flight answered, the new endpoint served by every worker', async () => {
    assert.equal(await post('bank-a', false), 200);
    assert.equal(await post('bank-b', true), 404);
    issuerFile('bank-b', true);
    let loading = true;
    const statuses: number[] = [];
    const load = (async () => {
      while (loading)
        statuses.push(...(await Promise.all([1, 2, 3, 4].map(() => post('bank-a', false)))));
    })();
    const inFlightAtSignal = inFlight;
    const lines = await reload('issuers reloaded');
    for (const l of lines.slice(0, WORKERS)) assert.deepEqual(l.added, ['bank-b']);
    loading = false;
    assert.ok(inFlightAtSignal > 0, 'requests were in flight when the signal came');
    await load;
    assert.ok(statuses.length > 0);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      'every request during the reload answered 200',
    );
    for (let i = 0; i < 6; i++) assert.equal(await post('bank-b', true), 200, `bank-b #${i}`);
  });

  it('a configuration that does not load, or changes more than issuers, changes nothing, naming the field', async () => {
    const config = join(dir, 'config.json');
    const original = readFileSync(config, 'utf8');
    const refusedFor = async (field: RegExp) => {
      const lines = await reload('reload refused: the issuers stay as they were');
      for (const l of lines.slice(0, WORKERS)) assert.match(String(l.field), field);
      assert.equal(await post('bank-a', false), 200);
      assert.equal(await post('bank-b', true), 200);
      assert.equal(await post('bank-c', false), 404);
    };
    // The schema refuses the file.
    writeFileSync(join(dir, 'issuers.d', 'bank-c.json'), JSON.stringify({ id: 'bank-c' }));
    await refusedFor(/bank-c\.json#/);
    // The schema takes it, but its key does not load.
    issuerFile('bank-c', false);
    const c = JSON.parse(readFileSync(join(dir, 'issuers.d', 'bank-c.json'), 'utf8'));
    c.keys.decryption[0].privateKey = join(dir, 'missing.pem');
    writeFileSync(join(dir, 'issuers.d', 'bank-c.json'), JSON.stringify(c));
    await refusedFor(/bank-c\.json#\/keys\/decryption\/0\/privateKey/);
    rmSync(join(dir, 'issuers.d', 'bank-c.json'));
    // A change outside the issuers waits for a restart.
    writeFileSync(
      config,
      JSON.stringify({ ...JSON.parse(original), jose: { signatureAlgorithms: ['PS512'] } }),
    );
    await refusedFor(/^\/jose$/);
    writeFileSync(config, original);
  });

  it('removing an issuer stops its endpoint (404) and keeps its stored notifications', async () => {
    rmSync(join(dir, 'issuers.d', 'bank-b.json'));
    const lines = await reload('issuers reloaded');
    for (const l of lines.slice(0, WORKERS)) assert.deepEqual(l.removed, ['bank-b']);
    for (let i = 0; i < 4; i++) assert.equal(await post('bank-b', true), 404);
    assert.equal(await post('bank-a', false), 200);
    const store = await openStore({ url: db.url, poolSize: 1, statementTimeoutMs: 5000 });
    try {
      const [row] = await rawSql(store).all<{ n: number }>(
        "SELECT count(*) AS n FROM notifications WHERE issuer = 'bank-b'",
      );
      assert.equal(Number(row?.n), accepted.get('bank-b'), 'every one accepted while configured');
    } finally {
      await store.close();
    }
  });
});

describe('the admin listener after a reload', () => {
  it("lists a new issuer's keys in its key inventory without a restart", async () => {
    const pki = await testPki();
    const dir = processTempDir('ctp-reload-admin-');
    mkdirSync(join(dir, 'issuers.d'));
    const db = await sqliteDialect.create();
    const key = (name: string) => {
      const p = join(dir, name);
      writeFileSync(p, randomBytes(32).toString('base64'), { mode: 0o600 });
      return p;
    };
    const issuer = (id: string, kid: string, privateKey: string) =>
      writeFileSync(
        join(dir, 'issuers.d', `${id}.json`),
        JSON.stringify({
          id,
          basePath: `/${id}`,
          keys: { decryption: [{ kid, privateKey }] },
          dataProtection: {
            keys: [{ id: `${id}-1`, file: key(`${id}.key`) }],
            fingerprintKey: { file: key(`${id}.fp`) },
          },
        }),
      );
    issuer('bank-a', pki.issuerKid, pki.files.issuerKey);
    const adminPort = await freePort();
    const config = writeConfig(dir, pki, db.url, {
      admin: { host: '127.0.0.1', port: adminPort, localMfa: 'optional' },
    });
    const made = runCli(
      ['operators', 'add', '--config', config, '--name', 'ops', '--role', 'viewer'].concat([
        '--all-issuers',
        '--format',
        'json',
      ]),
    );
    assert.equal(made.status, 0, made.stderr);
    const token = JSON.parse(made.stdout).apiToken as string;
    const server = await startServerProcess(['--config', config]);
    try {
      const keyIssuers = async () => {
        const res = await request(`http://127.0.0.1:${adminPort}/api/keys`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = (await res.body.json()) as { items: { issuer: string | null }[] };
        return [...new Set(body.items.map((k) => k.issuer).filter((i) => i !== null))].sort();
      };
      assert.deepEqual(await keyIssuers(), ['bank-a']);
      issuer('bank-b', pki.issuerKid2, pki.files.issuerKey2);
      const from = server.output().length;
      server.child.kill('SIGHUP');
      await eventually(
        async () => (server.output().slice(from).includes('issuers reloaded') ? true : undefined),
        'issuers reloaded',
      );
      assert.deepEqual(await keyIssuers(), ['bank-a', 'bank-b']);
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});
