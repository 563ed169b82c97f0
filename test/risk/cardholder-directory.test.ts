import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StorageError } from '../../src/errors.js';
import { DataProtector } from '../../src/protect/data-protector.js';
import type { Cardholder } from '../../src/risk/directory/cardholder.js';
import { openCardholder, sealCardholder } from '../../src/risk/directory/cardholder-codec.js';
import { parseCsvRecord } from '../../src/risk/directory/cardholder-file.js';
import { validateRow } from '../../src/risk/directory/cardholder-import.js';
import { HttpDirectory } from '../../src/risk/directory/http-directory.js';
import { LocalDirectory } from '../../src/risk/directory/local-directory.js';
import { phoneOnFile } from '../../src/risk/risk-inputs.js';
import type { AttemptContext } from '../../src/risk/rules/risk-rule.js';
import type { CardholderStore } from '../../src/storage/cardholder-store.js';
import { openStore } from '../../src/storage/open-store.js';
import { runCli } from '../support/cli-process.js';
import { assertNoPersonalData, registerSensitive, testPan } from '../support/personal-data.js';
import { testPki } from '../support/test-pki.js';

describe('cardholder file parsing and row checks', () => {
  it('CSV records: quotes, doubled quotes, commas and line breaks inside quotes', () => {
    assert.deepEqual(parseCsvRecord('a,"b,c","say ""hi""",'), ['a', 'b,c', 'say "hi"', '']);
    assert.equal(parseCsvRecord('a,"open'), 'open');
    assert.deepEqual(parseCsvRecord('a,"line\nbreak"'), ['a', 'line\nbreak']);
    assert.equal(parseCsvRecord('a,b"c'), 'bad');
  });

  it('row checks name the field and code, never the value', () => {
    const good = {
      accountNumber: '4532 0100 0000 0007',
      firstName: 'Zoë',
      lastName: 'Müller',
      email: 'a@example.org;b@example.org',
      phone: '07700900123',
      status: 'Active',
      language: 'de_CH',
    };
    const ok = validateRow(good, 'GB');
    assert.ok('cardholder' in ok);
    assert.equal(ok.accountNumber, '4532010000000007');
    assert.deepEqual(ok.cardholder.emails, ['a@example.org', 'b@example.org']);
    assert.deepEqual([ok.cardholder.status, ok.cardholder.language], ['active', 'de-CH']);
    const bad: [Record<string, unknown>, string][] = [
      [{ accountNumber: '4532-01' }, 'ACCOUNT_NUMBER_INVALID'],
      [{ firstName: '', lastName: '' }, 'NAME_MISSING'],
      [{ email: 'not an email' }, 'EMAIL_INVALID'],
      [{ phone: '12' }, 'PHONE_INVALID'],
      [{ status: 'frozen' }, 'STATUS_INVALID'],
      [{ status: '' }, 'STATUS_INVALID'],
      [{ language: 'english!' }, 'LANGUAGE_INVALID'],
    ];
    for (const [o, code] of bad) {
      const r = validateRow({ ...good, ...o }, 'GB');
      assert.ok('code' in r && r.code === code, `${JSON.stringify(o)} → ${JSON.stringify(r)}`);
    }
    assert.ok(
      'cardholder' in validateRow({ ...good, emails: ['x@example.org'], phones: ['+33612345678'] }),
      'JSONL arrays',
    );
  });

  it('phones are normalised at import, and an assessment uses them while the country is the same', () => {
    const row = validateRow(
      {
        accountNumber: '4532010000000007',
        lastName: 'Müller',
        phones: ['07700 900123', '+33 6 12 34 56 78'],
        status: 'active',
      },
      'GB',
    );
    assert.ok('cardholder' in row);
    const imported = row.cardholder;
    assert.deepEqual(imported.normalisedPhones, {
      country: 'GB',
      values: ['+447700900123', '+33612345678'],
    });
    const dp = new DataProtector([{ id: 'k1', key: Buffer.alloc(32, 7) }], Buffer.alloc(32, 9));
    const opened = openCardholder(dp, sealCardholder(dp, 'fp', imported));
    assert.deepEqual(opened.normalisedPhones, imported.normalisedPhones, 'kept through the codec');
    const attempt = { phoneNumber: '+447700900123' } as AttemptContext['attempt'];
    const on = (cardholder: Cardholder, defaultCountry: string | undefined) =>
      phoneOnFile({
        attempt,
        directory: { kind: 'found', cardholder },
        settings: { defaultCountry } as AttemptContext['settings'],
      });
    assert.equal(on(opened, 'GB'), true);
    // Proof of which is read: stored values that differ from what the phones parse to.
    const stale = { ...opened, normalisedPhones: { country: 'GB', values: ['+15550000000'] } };
    assert.equal(on(stale, 'GB'), false, 'the stored values, for the same country');
    assert.equal(
      on({ ...stale, normalisedPhones: { country: 'FR', values: ['+15550000000'] } }, 'GB'),
      true,
      'parsed again for another country',
    );
  });
});

describe('cardholders import (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctp-import-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports CSV and JSONL, reports bad rows by line without echoing card numbers, re-import updates', async () => {
    const pki = await testPki();
    const dbUrl = `sqlite:${join(dir, 'ctp.sqlite')}`;
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        storage: { url: dbUrl },
        keys: {
          decryption: [{ kid: pki.issuerKid, privateKey: pki.files.issuerKey }],
          verification: [{ kid: pki.visaKid, certificate: pki.files.visaCert }],
        },
        dataProtection: {
          keys: [{ id: 'k1', file: pki.files.dataKey }],
          fingerprintKey: { file: pki.files.fingerprintKey },
        },
        risk: { defaultCountry: 'GB' },
      }),
    );
    const pans = [1, 2, 3, 4].map((n) => testPan(9000 + n));
    const badPan = `${pans[0]!.slice(0, 10)}X`;
    registerSensitive(...pans, badPan, 'Amelie Dubois');
    const csv = [
      'accountNumber,firstName,lastName,email,phone,status,language',
      `${pans[0]},Amélie,Dubois,amelie@example.org,07700900123,active,fr`,
      `${badPan},Bad,Card,bad@example.org,,active,en`,
      `"${pans[1]}","Jean, Jr","O""Neil","a@example.org;b@example.org",+447700900124,blocked,`,
      `${pans[2]},No,Status,ns@example.org,,,en`,
      `${pans[3]},"Multi`,
      `Line",Name,ml@example.org,,closed,de`,
    ].join('\r\n');
    const csvFile = join(dir, 'cardholders.csv');
    writeFileSync(csvFile, csv);
    const first = runCli(['cardholders', 'import', '--config', configFile, '--file', csvFile]);
    assert.equal(first.status, 3, first.stderr);
    const report = JSON.parse(first.stdout) as {
      rows: number;
      inserted: number;
      updated: number;
      skipped: number;
      errors: { line: number; code: string; field?: string }[];
    };
    assert.deepEqual([report.rows, report.inserted, report.updated, report.skipped], [5, 3, 0, 2]);
    assert.deepEqual(report.errors, [
      { line: 3, code: 'ACCOUNT_NUMBER_INVALID', field: 'accountNumber' },
      { line: 5, code: 'STATUS_INVALID', field: 'status' },
    ]);
    for (const p of [...pans, badPan])
      assert.ok(
        !first.stdout.includes(p) && !first.stderr.includes(p),
        'no card number in the report',
      );

    const jsonl = join(dir, 'update.jsonl');
    writeFileSync(
      jsonl,
      [
        JSON.stringify({
          accountNumber: pans[0],
          firstName: 'Amélie',
          lastName: 'Dubois-Martin',
          emails: ['new@example.org'],
          phones: [],
          status: 'blocked',
          language: 'fr',
        }),
        '{not json',
        JSON.stringify({
          accountNumber: pans[2],
          firstName: 'No',
          lastName: 'Status',
          email: 'ns@example.org',
          status: 'active',
        }),
      ].join('\n'),
    );
    const second = runCli(['cardholders', 'import', '--config', configFile, '--file', jsonl]);
    assert.equal(second.status, 3);
    const r2 = JSON.parse(second.stdout) as typeof report;
    assert.deepEqual(
      [r2.inserted, r2.updated, r2.errors],
      [1, 1, [{ line: 2, code: 'ROW_MALFORMED' }]],
    );

    const store = await openStore({ url: dbUrl, poolSize: 1, statementTimeoutMs: 5000 });
    try {
      const { cardholders } = store.openRiskStores();
      assert.equal(await cardholders.count(), 4);
      const dp = new DataProtector(
        [{ id: 'k1', key: Buffer.from(readFileSync(pki.files.dataKey, 'utf8').trim(), 'base64') }],
        Buffer.from(readFileSync(pki.files.fingerprintKey, 'utf8').trim(), 'base64'),
      );
      const updated = openCardholder(dp, (await cardholders.get(dp.fingerprint(pans[0]!)))!);
      assert.deepEqual(
        [updated.lastName, updated.emails, updated.status],
        ['Dubois-Martin', ['new@example.org'], 'blocked'],
      );
      const quoted = openCardholder(dp, (await cardholders.get(dp.fingerprint(pans[1]!)))!);
      assert.deepEqual(
        [quoted.firstName, quoted.lastName, quoted.emails.length],
        ['Jean, Jr', 'O"Neil', 2],
      );
    } finally {
      await store.close();
    }
    const raw = readFileSync(dbUrl.slice('sqlite:'.length)).toString('latin1');
    for (const v of [...pans, 'amelie@example.org', 'Dubois'])
      assert.ok(!raw.includes(v), 'nothing in clear in the database file');

    const missing = join(dir, 'bad-header.csv');
    writeFileSync(missing, 'accountNumber,firstName\n1,2\n');
    const m = runCli(['cardholders', 'import', '--config', configFile, '--file', missing]);
    assert.equal(m.status, 2);
    assert.match(m.stderr, /lacks column\(s\): lastName, email, phone, status, language/);
    assertNoPersonalData(
      [first.stdout, first.stderr, second.stdout, second.stderr].join('\n'),
      'import output',
    );
  });
});

describe('HTTP directory (a local test double of the bank API)', () => {
  let server: Server;
  let url = '';
  const seen: { body: Record<string, unknown>; auth: string | undefined }[] = [];
  let delayMs = 0;

  before(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        seen.push({ body, auth: req.headers.authorization });
        setTimeout(() => {
          if (body.fingerprint === 'fp-known') {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                status: 'active',
                firstName: 'Robert',
                lastName: 'Smith',
                email: 'r@example.org',
                phones: ['+447700900123'],
                language: 'fr',
              }),
            );
          } else if (body.fingerprint === 'fp-broken') {
            res.writeHead(500);
            res.end();
          } else if (body.fingerprint === 'fp-garbage') {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ status: 'weird' }));
          } else {
            res.writeHead(404);
            res.end();
          }
        }, delayMs);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/cardholders/lookup`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('found, unknown (404), errors and malformed answers; fingerprint only unless configured; cache', async () => {
    let now = 1_000_000;
    const d = new HttpDirectory({
      url,
      timeoutMs: 2000,
      cacheSeconds: 60,
      sendCardNumber: false,
      authorization: 'Bearer t0k',
      now: () => now,
    });
    const found = await d.lookup('fp-known', '4532010000000007');
    assert.equal(found.kind, 'found');
    assert.deepEqual(
      found.kind === 'found' && [found.cardholder.emails, found.cardholder.language],
      [['r@example.org'], 'fr'],
    );
    assert.deepEqual(
      seen.at(-1),
      { body: { fingerprint: 'fp-known' }, auth: 'Bearer t0k' },
      'no card number unless configured',
    );
    assert.deepEqual(await d.lookup('fp-other'), { kind: 'unknown' });
    assert.equal((await d.lookup('fp-broken')).kind, 'unavailable');
    assert.equal((await d.lookup('fp-garbage')).kind, 'unavailable');
    const calls = seen.length;
    await d.lookup('fp-known');
    await d.lookup('fp-other');
    assert.equal(seen.length, calls, 'found and unknown answers are cached');
    await d.lookup('fp-broken');
    assert.equal(seen.length, calls + 1, 'failures are not cached');
    now += 61_000;
    await d.lookup('fp-known');
    assert.equal(seen.length, calls + 2, 'cache expires');
    await d.close();

    const withPan = new HttpDirectory({
      url,
      timeoutMs: 2000,
      cacheSeconds: 0,
      sendCardNumber: true,
    });
    assert.ok(withPan.wantsCardNumber);
    await withPan.lookup('fp-known', '4532010000000007');
    assert.deepEqual(seen.at(-1)?.body, {
      fingerprint: 'fp-known',
      accountNumber: '4532010000000007',
    });
    await withPan.close();
  });

  it('a slow directory answers unavailable (timeout) within its deadline', async () => {
    delayMs = 1500;
    const d = new HttpDirectory({ url, timeoutMs: 200, cacheSeconds: 60, sendCardNumber: false });
    const r = await d.lookup('fp-known');
    delayMs = 0;
    assert.equal(r.kind, 'unavailable');
    assert.equal(r.kind === 'unavailable' && r.reason, 'timeout');
    await d.close();
    const down = new HttpDirectory({
      url: 'http://127.0.0.1:1/',
      timeoutMs: 500,
      cacheSeconds: 0,
      sendCardNumber: false,
    });
    assert.deepEqual((await down.lookup('fp-known')).kind, 'unavailable');
    await down.close();
  });
});

describe('the imported directory when the database fails', () => {
  it('a storage error fails the lookup (the assessment is done again); a record that cannot be opened is unavailable', async () => {
    const failing = {
      get: async () => {
        throw new StorageError('PostgreSQL query failed');
      },
    } as unknown as CardholderStore;
    const dp = new DataProtector([{ id: 'k1', key: Buffer.alloc(32, 7) }], Buffer.alloc(32, 9));
    await assert.rejects(new LocalDirectory(failing, dp).lookup('fp'), StorageError);
    const garbage = {
      get: async () => ({
        fingerprint: 'fp',
        status: 'active',
        language: null,
        dataKeyId: 'k1',
        contactCiphertext: Buffer.from('not sealed'),
      }),
    } as unknown as CardholderStore;
    assert.equal((await new LocalDirectory(garbage, dp).lookup('fp')).kind, 'unavailable');
  });
});
