import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { runCli, startServerProcess } from '../support/cli-process.js';
import { testPki } from '../support/test-pki.js';

describe('admin listener under `serve --workers 2`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctp-admin-cluster-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs once in the primary; operators add prints credentials once; /metrics sums every worker', async () => {
    const pki = await testPki();
    const issuerCert = join(dir, 'issuer.cert.pem');
    writeFileSync(issuerCert, readFileSync(pki.files.issuerCert));
    const visaKey = join(dir, 'visa.key.pem');
    writeFileSync(visaKey, pki.visaSigningKey.export({ type: 'pkcs8', format: 'pem' }) as string, {
      mode: 0o600,
    });
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        listen: { host: '127.0.0.1', port: 0 },
        storage: { url: 'sqlite:ctp.sqlite' },
        keys: {
          decryption: [
            { kid: pki.issuerKid, privateKey: pki.files.issuerKey, certificate: issuerCert },
          ],
          verification: [{ kid: pki.visaKid, certificate: pki.files.visaCert }],
        },
        dataProtection: {
          keys: [{ id: 'k1', file: pki.files.dataKey }],
          fingerprintKey: { file: pki.files.fingerprintKey },
        },
        admin: { host: '127.0.0.1', port: 0, localMfa: 'optional' },
      }),
    );

    const add = runCli([
      'operators',
      'add',
      '--config',
      configFile,
      '--name',
      'ops.viewer',
      '--role',
      'viewer',
      '--format',
      'json',
    ]);
    assert.equal(add.status, 0, add.stderr);
    const issued = JSON.parse(add.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(issued), [
      'name',
      'role',
      'password',
      'apiToken',
      'allIssuers',
      'issuers',
    ]);
    assert.equal(issued.role, 'viewer');
    assert.equal(
      runCli([
        'operators',
        'add',
        '--config',
        configFile,
        '--name',
        'ops.viewer',
        '--role',
        'admin',
      ]).status,
      2,
      'names are unique',
    );
    assert.equal(
      runCli(['operators', 'add', '--config', configFile, '--name', 'x', '--role', 'root']).status,
      2,
    );

    const server = await startServerProcess(['--config', configFile, '--workers', '2']);
    try {
      const adminUrl = /"url":"(http:\/\/127\.0\.0\.1:\d+)","msg":"admin listener/.exec(
        server.output(),
      )?.[1];
      assert.ok(adminUrl, server.output());
      assert.equal(
        server.output().match(/"msg":"admin listener/g)?.length,
        1,
        'one admin listener for the whole cluster',
      );
      // Four notifications, each freshly encrypted.
      const s = runCli([
        'send',
        '--count',
        '4',
        '--url',
        server.url,
        '--signing-key',
        visaKey,
        '--signing-kid',
        pki.visaKid,
        '--encryption-cert',
        issuerCert,
        '--encryption-kid',
        pki.issuerKid,
        '--dev-home',
        join(dir, 'none'),
      ]);
      assert.equal(s.status, 0, s.stderr);
      const get = async (path: string, token?: string) => {
        const r = await request(`${adminUrl}${path}`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
        return { status: r.statusCode, text: await r.body.text() };
      };
      assert.equal((await get('/healthz')).status, 200);
      assert.equal((await get('/readyz')).status, 200);
      const list = await get('/api/notifications', issued.apiToken);
      assert.equal(list.status, 200);
      assert.equal((JSON.parse(list.text) as { items: unknown[] }).items.length, 4);
      // The four requests landed on either worker; the primary's scrape adds both up.
      const metrics = await get('/metrics');
      assert.match(
        metrics.text,
        /^ctp_notify_requests_total\{outcome="accepted",status="200",issuer="default"\} 4$/m,
      );
      assert.match(
        metrics.text,
        /^ctp_notify_request_duration_seconds_count\{outcome="accepted",issuer="default"\} 4$/m,
      );
      assert.match(
        metrics.text,
        /^ctp_notify_key_expiry_days\{kid="issuer-enc-2026",use="decryption",issuer="default"\} \d+/m,
      );
      assert.match(metrics.text, /^process_resident_memory_bytes \d+/m);
      assert.equal(await server.stop(), 0);
    } finally {
      if (server.child.exitCode === null) await server.stop('SIGKILL');
    }
  });
});
