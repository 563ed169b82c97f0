import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Config } from '../../src/config/config-schema.js';
import { DEFAULT_TLS12_CIPHERS } from '../../src/config/listen-tls-schema.js';
import { createSinks } from '../../src/delivery/create-sinks.js';
import { ConfigError } from '../../src/errors.js';
import { loadSecrets } from '../../src/keys/load-secrets.js';
import { createLogger } from '../../src/logger.js';
import { runCli, startServerProcess } from '../support/cli-process.js';
import { writeServerConfig } from '../support/process-config.js';
import { configFor } from '../support/server-harness.js';
import { type TestPki, testPki } from '../support/test-pki.js';

// Every private key or secret file is refused at start when group or others can read it,
// naming the field; allowInsecureKeyPermissions lets it through, loudly (an error-level line).

const dir = mkdtempSync(join(tmpdir(), 'ctp-secret-files-'));
/** A copy of `file` with `mode` (0640: group-readable; 0604: world-readable). */
function loose(file: string, mode: number): string {
  const copy = join(dir, `${randomBytes(4).toString('hex')}.pem`);
  copyFileSync(file, copy);
  chmodSync(copy, mode);
  return copy;
}
function secretFile(content: string, mode: number): string {
  const p = join(dir, `${randomBytes(4).toString('hex')}.secret`);
  writeFileSync(p, content, { mode });
  chmodSync(p, mode);
  return p;
}

/** Each secret-file field, and how to point a config at a loose copy of it. */
function fields(pki: TestPki): [string, (c: Config, mode: number) => void][] {
  return [
    [
      '/keys/decryption/0/privateKey',
      (c, m) => (c.issuers[0]!.keys.decryption[0]!.privateKey = loose(pki.files.issuerKey, m)),
    ],
    [
      '/listen/tls/key',
      (c, m) =>
        (c.listen.tls = {
          cert: pki.files.serverCert,
          key: loose(pki.files.serverKey, m),
          minVersion: 'TLSv1.2',
          ciphers: DEFAULT_TLS12_CIPHERS,
        }),
    ],
    [
      '/admin/tls/key',
      (c, m) => {
        const tls = { cert: pki.files.serverCert, key: loose(pki.files.serverKey, m) };
        c.admin = configFor(pki, {
          storageUrl: 'sqlite::memory:',
          extra: { admin: { port: 0, localMfa: 'optional', tls } },
        }).admin;
      },
    ],
    [
      '/dataProtection/keys/0/file',
      (c, m) =>
        (c.issuers[0]!.dataProtection.keys[0] = { id: 'k1', file: loose(pki.files.dataKey, m) }),
    ],
    [
      '/dataProtection/fingerprintKey/file',
      (c, m) =>
        (c.issuers[0]!.dataProtection.fingerprintKey = {
          file: loose(pki.files.fingerprintKey, m),
        }),
    ],
    [
      '/auth/xPayToken/sharedSecret/file',
      (c, m) =>
        (c.issuers[0]!.auth.xPayToken = {
          sharedSecret: { file: secretFile('a-shared-secret-of-some-length', m) },
          clockSkewSeconds: 300,
        }),
    ],
  ];
}

describe('secret files readable by group or others', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('each private key and secret file is refused, naming its field; allowed only by the flag, with a warning', async () => {
    const pki = await testPki();
    for (const [field, point] of fields(pki)) {
      for (const mode of [0o640, 0o604]) {
        const c = configFor(pki, { storageUrl: 'sqlite::memory:' });
        point(c, mode);
        assert.throws(
          () => loadSecrets(c),
          (e: unknown) =>
            e instanceof ConfigError &&
            e.field === field &&
            /readable by group or others/.test(e.message),
          `${field} ${mode.toString(8)}`,
        );
        c.allowInsecureKeyPermissions = true;
        const { warnings } = loadSecrets(c);
        assert.ok(
          warnings.some((w) => w.startsWith(`${field}:`)),
          `${field}: warned`,
        );
      }
    }
  });

  it('sink secrets (webhook secrets, broker password) too', async () => {
    const pki = await testPki();
    const whsec = `whsec_${randomBytes(32).toString('base64')}`;
    const c = configFor(pki, {
      storageUrl: 'sqlite::memory:',
      extra: {
        sinks: [
          {
            name: 'hook',
            type: 'webhook',
            url: 'http://127.0.0.1:9/h',
            secrets: [{ file: secretFile(whsec, 0o644) }],
          },
        ],
      },
    });
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => void lines.push(l) });
    assert.throws(
      () => createSinks(c, logger),
      (e: unknown) => e instanceof ConfigError && e.field === '/sinks/0/secrets/0/file',
    );
    const amqp = configFor(pki, {
      storageUrl: 'sqlite::memory:',
      extra: {
        sinks: [
          {
            name: 'core',
            type: 'rabbitmq',
            url: 'amqp://guest@127.0.0.1:5672',
            password: { file: secretFile('guest', 0o640) },
          },
        ],
      },
    });
    assert.throws(
      () => createSinks(amqp, logger),
      (e: unknown) => e instanceof ConfigError && e.field === '/sinks/0/password/file',
    );
    c.allowInsecureKeyPermissions = true;
    createSinks(c, logger);
    assert.ok(
      lines.some(
        (l) =>
          l.includes('"level":50') &&
          l.includes('INSECURE_KEY_PERMISSIONS') &&
          l.includes('/sinks/0/secrets/0/file'),
      ),
      'an error-level line names the field',
    );
    const unset = configFor(pki, {
      storageUrl: 'sqlite::memory:',
      extra: {
        sinks: [
          {
            name: 'hook',
            type: 'webhook',
            url: 'http://127.0.0.1:9/h',
            secrets: [{ file: secretFile(whsec, 0o600) }, { env: 'CTP_TEST_UNSET_WHSEC' }],
          },
        ],
      },
    });
    assert.throws(
      () => createSinks(unset, logger, {}),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.field === '/sinks/0/secrets/1/env' &&
        /CTP_TEST_UNSET_WHSEC is not set/.test(e.message),
    );
  });

  it('risk secrets (directory authorization, alert sink secrets) too: refused, or allowed and logged at error level', async () => {
    const pki = await testPki();
    const db = join(dir, 'risk.sqlite');
    const whsec = `whsec_${randomBytes(32).toString('base64')}`;
    const risky = (c: Config) => {
      c.directory = {
        type: 'http',
        url: 'http://127.0.0.1:9/dir',
        timeoutMs: 2000,
        cacheSeconds: 0,
        sendCardNumber: false,
        authorization: { file: secretFile('Bearer directory-token', 0o640) },
      };
      c.risk.alert = {
        minLevel: 'low',
        windowSeconds: 3600,
        bankName: 'Bank',
        helpContact: '+44 20 7946 0000',
        timeZone: 'UTC',
        defaultLanguage: 'en',
        answerWindowHours: 168,
        sink: {
          type: 'webhook',
          url: 'http://127.0.0.1:9/sms',
          secrets: [{ file: secretFile(whsec, 0o604) }],
          timeoutMs: 2000,
        },
        retry: { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 3 },
      };
    };
    const { file: refusedFile } = writeServerConfig(pki, { storageUrl: `sqlite:${db}` }, risky);
    const refused = runCli(['serve', '--config', refusedFile, '--workers', '1']);
    assert.equal(refused.status, 2);
    assert.match(
      refused.stderr,
      /config \/(directory\/authorization|risk\/alert\/sink\/secrets\/0)\/file: .* is readable by group or others/,
    );
    const { file: allowed } = writeServerConfig(pki, { storageUrl: `sqlite:${db}` }, (c) => {
      risky(c);
      c.allowInsecureKeyPermissions = true;
    });
    const server = await startServerProcess(['--config', allowed, '--workers', '1']);
    try {
      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.includes('INSECURE_KEY_PERMISSIONS'));
      for (const field of ['/directory/authorization/file', '/risk/alert/sink/secrets/0/file']) {
        const line = lines.find((l) => l.includes(field));
        assert.ok(line, `${field}: the start is logged as insecure`);
        assert.equal(JSON.parse(line).level, 50, 'at error level');
      }
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('the process exits 2 with a message naming the field, or starts and says so at error level when allowed', async () => {
    const pki = await testPki();
    const db = join(dir, 'ctp.sqlite');
    const { file } = writeServerConfig(
      pki,
      { storageUrl: `sqlite:${db}`, tls: 'tls' },
      (c) => (c.listen.tls!.key = loose(pki.files.serverKey, 0o640)),
    );
    const refused = runCli(['serve', '--config', file, '--workers', '1']);
    assert.equal(refused.status, 2);
    assert.match(
      refused.stderr,
      /^ctp-notify: config \/listen\/tls\/key: .* is readable by group or others \(chmod 600, or set allowInsecureKeyPermissions\)/,
    );
    const { file: allowed } = writeServerConfig(
      pki,
      { storageUrl: `sqlite:${db}`, tls: 'tls' },
      (c) => {
        c.listen.tls!.key = loose(pki.files.serverKey, 0o640);
        c.allowInsecureKeyPermissions = true;
      },
    );
    const server = await startServerProcess(['--config', allowed, '--workers', '1']);
    try {
      const line = server
        .output()
        .split('\n')
        .find((l) => l.includes('INSECURE_KEY_PERMISSIONS'));
      assert.ok(line, 'the start is logged as insecure');
      assert.equal(JSON.parse(line).level, 50, 'at error level');
      assert.match(line, /\/listen\/tls\/key/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
