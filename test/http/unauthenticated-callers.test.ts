import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { transportWarnings } from '../../src/config/transport-warnings.js';
import { startServerProcess } from '../support/cli-process.js';
import { writeServerConfig } from '../support/process-config.js';
import { configFor } from '../support/server-harness.js';
import { processTempDir } from '../support/temp-dir.js';
import { testPki } from '../support/test-pki.js';

// With neither mutual TLS nor X-Pay-Token, any client reaching the Visa listener has its body
// parsed as JOSE, and the JWS signature is the only check. Allowed (a proxy may end mutual TLS),
// but said at start; the admin listener's /readyz lists it too (test/admin/admin-transport.test.ts).

const CODE = 'VISA_CALLER_NOT_AUTHENTICATED';

/** The JSON lines of a process's output carrying `code`. */
const linesWith = (output: string, code: string) =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; code?: string; msg: string })
    .filter((l) => l.code === code);

describe('start without mutual TLS or X-Pay-Token', () => {
  it('serve logs one warning (not one per worker) naming both fields and the proxy case', async () => {
    const pki = await testPki();
    const db = join(processTempDir('ctp-unauth-'), 'ctp.sqlite');
    const { file } = writeServerConfig(pki, { storageUrl: `sqlite:${db}` });
    const server = await startServerProcess(['--config', file, '--workers', '2']);
    try {
      const lines = linesWith(server.output(), CODE);
      assert.equal(lines.length, 1, server.output());
      assert.equal(lines[0]!.level, 40, 'at warn level');
      assert.match(lines[0]!.msg, /listen\.tls\.clientCa/);
      assert.match(lines[0]!.msg, /auth\.xPayToken/);
      assert.match(lines[0]!.msg, /JWS signature is the only check/);
      assert.match(lines[0]!.msg, /proxy that ends mutual TLS/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('serve with X-Pay-Token says nothing of it', async () => {
    const pki = await testPki();
    const db = join(processTempDir('ctp-unauth-'), 'ctp.sqlite');
    const { file } = writeServerConfig(pki, {
      storageUrl: `sqlite:${db}`,
      xPayTokenSecret: 'x-pay-token-shared-secret-0123456789',
    });
    const server = await startServerProcess(['--config', file, '--workers', '1']);
    try {
      assert.deepEqual(linesWith(server.output(), CODE), []);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('the warning is there exactly when neither mutual TLS nor X-Pay-Token is configured', async () => {
    const pki = await testPki();
    const codes = (o: Parameters<typeof configFor>[1]) =>
      transportWarnings(configFor(pki, o)).map((w) => w.code);
    const storageUrl = 'sqlite::memory:';
    const xPayTokenSecret = 'x-pay-token-shared-secret-0123456789';
    assert.deepEqual(codes({ storageUrl }), [CODE]);
    assert.deepEqual(codes({ storageUrl, tls: 'tls' }), [CODE], 'TLS without client certificates');
    assert.deepEqual(codes({ storageUrl, tls: 'mtls' }), []);
    assert.deepEqual(codes({ storageUrl, xPayTokenSecret }), []);
    assert.deepEqual(codes({ storageUrl, tls: 'mtls', xPayTokenSecret }), []);
    // Nothing from the configuration's values in the text: no path (the keys are in pki.dir).
    const [w] = transportWarnings(configFor(pki, { storageUrl, tls: 'tls' }));
    assert.ok(w && !w.message.includes(pki.dir));
  });
});
