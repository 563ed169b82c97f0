import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../support/cli-process.js';
import { dialects } from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { configFor, startTestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

for (const dialect of await dialects()) {
  describe(`maintenance commands on ${dialect.name}`, () => {
    it('migrate, notifications list and quarantine reprocess behave the same', async () => {
      const pki = await testPki();
      const db = await dialect.create();
      const dir = mkdtempSync(join(tmpdir(), 'ctp-maint-'));
      try {
        const configFile = join(dir, 'config.json');
        writeFileSync(configFile, JSON.stringify(configFor(pki, { storageUrl: db.url })));
        assert.equal(runCli(['migrate', '--config', configFile]).status, 0);
        assert.match(
          runCli(['migrate', '--config', configFile]).stdout,
          new RegExp(`migrated \\(${dialect.name}\\)`),
          'idempotent',
        );

        const s = await startTestServer(pki, { storageUrl: db.url });
        try {
          assert.equal(
            (await s.post({ encryptedData: await s.encode(enrollmentPayload()) })).status,
            200,
          );
          assert.equal(
            (
              await s.post({
                encryptedData: await s.encode(enrollmentPayload(), { encryptTo: 'second' }),
              })
            ).status,
            500,
          );
        } finally {
          await s.close();
        }
        const list = JSON.parse(
          runCli(['notifications', 'list', '--config', configFile, '--format', 'json']).stdout,
        ) as { status: string; reason: string | null }[];
        assert.deepEqual(
          list.map((n) => [n.status, n.reason]),
          [
            ['quarantined', 'JWE_KID_UNKNOWN'],
            ['accepted', null],
          ],
        );

        assert.deepEqual(
          JSON.parse(runCli(['quarantine', 'reprocess', '--config', configFile]).stdout),
          { examined: 1, accepted: 0, stillQuarantined: 1, failed: 0 },
        );
        writeFileSync(
          configFile,
          JSON.stringify(
            configFor(pki, { storageUrl: db.url, decryptionKids: ['first', 'second'] }),
          ),
        );
        assert.deepEqual(
          JSON.parse(runCli(['quarantine', 'reprocess', '--config', configFile]).stdout),
          { examined: 1, accepted: 1, stillQuarantined: 0, failed: 0 },
        );
        const after = JSON.parse(
          runCli(['notifications', 'list', '--config', configFile, '--format', 'json']).stdout,
        ) as { status: string }[];
        assert.deepEqual(
          after.map((n) => n.status),
          ['accepted', 'accepted'],
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await db.drop();
      }
    });

    it('a failed migration exits non-zero with the reason', async () => {
      const pki = await testPki();
      const db = await dialect.create();
      const dir = mkdtempSync(join(tmpdir(), 'ctp-maint-'));
      try {
        const configFile = join(dir, 'config.json');
        writeFileSync(configFile, JSON.stringify(configFor(pki, { storageUrl: db.url })));
        // A table of the same name but another shape, left by something else: migration 1 must fail
        // loudly.
        if (dialect.name === 'sqlite') {
          const { default: Database } = await import('better-sqlite3');
          const raw = new Database(db.url.slice('sqlite:'.length));
          raw.exec('CREATE TABLE notifications (x INTEGER)');
          raw.close();
        } else {
          const pg = await import('pg');
          const c = new pg.default.Client({ connectionString: db.url });
          await c.connect();
          await c.query('CREATE TABLE notifications (x integer)');
          await c.end();
        }
        const r = runCli(['migrate', '--config', configFile]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /migration 1 \(notifications\) failed/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await db.drop();
      }
    });
  });
}
