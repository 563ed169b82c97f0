import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { samplePayload } from '../../src/visa/visa-encoder.js';
import { processOutput, runCli, startServerProcess } from '../support/cli-process.js';
import {
  assertNoPersonalData,
  enrollmentPayload,
  registerSensitive,
} from '../support/personal-data.js';
import { testPki } from '../support/test-pki.js';

describe('CLI round trip: keys generate → serve → send → notifications list → quarantine reprocess', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctp-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('works end to end over mutual TLS with an X-Pay-Token, on two workers', async () => {
    const pki = await testPki();
    const sample = samplePayload() as {
      clientInformation: Record<string, string>;
      enrollment: { paymentInstrument: { accountNumber: string } };
    };
    registerSensitive(
      sample.enrollment.paymentInstrument.accountNumber,
      ...Object.values(sample.clientInformation),
    );

    const gen = runCli([
      'keys',
      'generate',
      '--kid',
      'issuer-enc-2026',
      '--out',
      join(dir, 'keys'),
    ]);
    assert.equal(gen.status, 0, gen.stderr);
    const keyFile = join(dir, 'keys', 'issuer-enc-2026.key.pem');
    const certFile = join(dir, 'keys', 'issuer-enc-2026.cert.pem');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.match(readFileSync(certFile, 'utf8'), /BEGIN CERTIFICATE/);
    assert.equal(
      runCli(['keys', 'generate', '--kid', 'issuer-enc-2026', '--out', join(dir, 'keys')]).status,
      2,
      'never overwrites a key',
    );
    assert.equal(
      runCli([
        'keys',
        'generate',
        '--kid',
        'issuer-enc-2027',
        '--out',
        join(dir, 'keys'),
        '--bits',
        '3072',
      ]).status,
      0,
    );

    const visaKey = join(dir, 'visa.key.pem');
    writeFileSync(visaKey, pki.visaSigningKey.export({ type: 'pkcs8', format: 'pem' }) as string, {
      mode: 0o600,
    });
    const secretFile = join(dir, 'xpt.secret');
    writeFileSync(secretFile, 'cli-round-trip-shared-secret-42\n', { mode: 0o600 });
    const config = {
      listen: {
        host: '127.0.0.1',
        port: 0,
        tls: { cert: pki.files.serverCert, key: pki.files.serverKey, clientCa: pki.files.caCert },
      },
      storage: { url: 'sqlite:data/ctp.sqlite' },
      keys: {
        decryption: [{ kid: 'issuer-enc-2026', privateKey: 'keys/issuer-enc-2026.key.pem' }],
        verification: [{ kid: pki.visaKid, certificate: pki.files.visaCert }],
      },
      auth: { xPayToken: { sharedSecret: { file: 'xpt.secret' } } },
      dataProtection: {
        keys: [{ id: 'k1', env: 'CTP_TEST_DATA_KEY' }],
        fingerprintKey: { file: pki.files.fingerprintKey },
      },
    };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const env = { CTP_TEST_DATA_KEY: readFileSync(pki.files.dataKey, 'utf8') };

    const server = await startServerProcess(['--config', configFile, '--workers', '2'], env);
    try {
      const send = (extra: string[]) =>
        runCli([
          'send',
          '--url',
          server.url,
          '--signing-key',
          visaKey,
          '--signing-kid',
          pki.visaKid,
          '--cert',
          pki.files.clientCert,
          '--key',
          pki.files.clientKey,
          '--ca',
          pki.files.caCert,
          '--x-pay-token-secret-file',
          secretFile,
          '--dev-home',
          join(dir, 'no-dev-setup'),
          ...extra,
        ]);
      const ok = send(['--encryption-cert', certFile, '--encryption-kid', 'issuer-enc-2026']);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, / -> 200$/m);

      const payloadFile = join(dir, 'payload.json');
      writeFileSync(payloadFile, JSON.stringify(enrollmentPayload()));
      const many = send([
        '--encryption-cert',
        certFile,
        '--encryption-kid',
        'issuer-enc-2026',
        '--payload',
        payloadFile,
        '--count',
        '5',
      ]);
      assert.match(many.stdout, /sent 5: 5x 200/);

      const unknownKid = send([
        '--encryption-cert',
        join(dir, 'keys', 'issuer-enc-2027.cert.pem'),
        '--encryption-kid',
        'issuer-enc-2027',
      ]);
      assert.match(unknownKid.stdout, / -> 500$/m);
      const noCert = runCli([
        'send',
        '--url',
        server.url,
        '--signing-key',
        visaKey,
        '--signing-kid',
        pki.visaKid,
        '--ca',
        pki.files.caCert,
        '--encryption-cert',
        certFile,
        '--encryption-kid',
        'issuer-enc-2026',
        '--x-pay-token-secret-file',
        secretFile,
        '--dev-home',
        join(dir, 'none'),
      ]);
      assert.match(noCert.stdout, / -> 401$/m);
    } finally {
      assert.equal(await server.stop(), 0, 'SIGTERM: clean exit');
    }

    const list = runCli(['notifications', 'list', '--config', configFile, '--format', 'json'], env);
    assert.equal(list.status, 0, list.stderr);
    const items = JSON.parse(list.stdout) as Record<string, unknown>[];
    assert.equal(items.length, 7);
    const accepted = items.filter((i) => i.status === 'accepted');
    assert.equal(accepted.length, 6);
    const first = items.at(-1)!;
    for (const k of [
      'id',
      'receivedAt',
      'tokenRequestorId',
      'eventType',
      'status',
      'reason',
      'tsp',
      'panLast4',
      'firstName',
      'lastName',
      'contactEmail',
      'phoneNumber',
    ]) {
      assert.ok(k in first, `list item has ${k}`);
    }
    assert.equal(first.panLast4, '1111');
    assert.equal(first.firstName, 'Jane');
    assert.equal(items[0]?.status, 'quarantined');
    assert.equal(items[0]?.reason, 'JWE_KID_UNKNOWN');
    assert.ok(
      !list.stdout.includes(sample.enrollment.paymentInstrument.accountNumber),
      'never the full card number',
    );
    const table = runCli(['notifications', 'list', '--config', configFile, '--limit', '2'], env);
    assert.equal(table.stdout.trim().split('\n').length, 3);

    // Install the missing key, then reprocess the quarantine.
    config.keys.decryption.push({
      kid: 'issuer-enc-2027',
      privateKey: 'keys/issuer-enc-2027.key.pem',
    });
    writeFileSync(configFile, JSON.stringify(config));
    const re = runCli(['quarantine', 'reprocess', '--config', configFile], env);
    assert.equal(re.status, 0, re.stderr);
    assert.deepEqual(JSON.parse(re.stdout), {
      examined: 1,
      accepted: 1,
      stillQuarantined: 0,
      failed: 0,
    });
    const after = JSON.parse(
      runCli(
        [
          'notifications',
          'list',
          '--config',
          configFile,
          '--format',
          'json',
          '--status',
          'quarantined',
        ],
        env,
      ).stdout,
    ) as unknown[];
    assert.equal(after.length, 0);

    assertNoPersonalData(processOutput.join('\n'), 'CLI and server output');
  });

  it('a bad config value stops the process with a message naming the field', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ listen: { port: 'eighty' }, storage: { url: 'sqlite:x.sqlite' } }),
    );
    const r = runCli(['serve', '--config', bad]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /config \/listen\/port/);
    writeFileSync(bad, JSON.stringify({ storage: { url: 'mysql://x' } }));
    assert.match(runCli(['migrate', '--config', bad]).stderr, /config \/storage\/url/);
    assert.match(runCli(['serve', '--config', join(dir, 'missing.json')]).stderr, /cannot read/);
  });

  it('a private key readable by others is refused unless allowed explicitly', async () => {
    const pki = await testPki();
    const loose = join(dir, 'loose.key.pem');
    writeFileSync(loose, readFileSync(pki.files.issuerKey), { mode: 0o644 });
    const cfg = {
      listen: { port: 0 },
      storage: { url: 'sqlite:loose.sqlite' },
      keys: {
        decryption: [{ kid: 'a', privateKey: loose }],
        verification: [{ kid: 'v', certificate: pki.files.visaCert }],
      },
      dataProtection: {
        keys: [{ id: 'k1', file: pki.files.dataKey }],
        fingerprintKey: { file: pki.files.fingerprintKey },
      },
    };
    const file = join(dir, 'loose.json');
    writeFileSync(file, JSON.stringify(cfg));
    const r = runCli(['serve', '--config', file, '--workers', '1']);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /config \/keys\/decryption\/0\/privateKey: .* readable by group or others/,
    );
    writeFileSync(file, JSON.stringify({ ...cfg, allowInsecureKeyPermissions: true }));
    const server = await startServerProcess(['--config', file, '--workers', '1']);
    try {
      assert.match(server.output(), /INSECURE_KEY_PERMISSIONS/);
    } finally {
      await server.stop();
    }
    assert.ok(existsSync(join(dir, 'loose.sqlite')));
  });
});
