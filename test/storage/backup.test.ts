import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { CLI, processOutput, runCli } from '../support/cli-process.js';
import { postgresAvailable, postgresDialect, sqliteDialect } from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { configFor, startTestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

const dedupKey = (encryptedData: string) =>
  createHash('sha256').update(encryptedData).digest('base64url');

/** Copies the stored rows until the file is tens of MB, so the backup takes many steps. */
function inflate(file: string, copies: number): void {
  const db = new Database(file);
  try {
    const cols = (db.prepare('PRAGMA table_info(notifications)').all() as { name: string }[]).map(
      (c) => c.name,
    );
    const fresh: Record<string, string> = {
      id: "'x-' || lower(hex(randomblob(12)))",
      dedup_key: "'x-' || lower(hex(randomblob(16)))",
    };
    db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${copies})
      INSERT INTO notifications (${cols.join(', ')})
      SELECT ${cols.map((c) => fresh[c] ?? c).join(', ')} FROM n, (SELECT * FROM notifications LIMIT 1)`);
  } finally {
    db.close();
  }
}

const withPostgres = await postgresAvailable();

describe('ctp-notify backup', () => {
  it('copies SQLite online, under load, and the copy holds every notification acknowledged before it began', async () => {
    const pki = await testPki();
    const db = await sqliteDialect.create();
    const dir = mkdtempSync(join(tmpdir(), 'ctp-backup-'));
    const file = db.url.slice('sqlite:'.length);
    try {
      const configFile = join(dir, 'config.json');
      writeFileSync(configFile, JSON.stringify(configFor(pki, { storageUrl: db.url })));
      const messages = Array.from({ length: 400 }, () => enrollmentPayload());
      let s = await startTestServer(pki, { storageUrl: db.url });
      const encoded = await Promise.all(messages.map((p) => s.encode(p)));
      assert.equal((await s.post({ encryptedData: encoded[0] })).status, 200);
      await s.close();
      inflate(file, 20_000);

      s = await startTestServer(pki, { storageUrl: db.url });
      const acknowledged: string[] = [encoded[0]!];
      let next = 1;
      let stop = false;
      const sender = async () => {
        while (!stop && next < encoded.length) {
          const e = encoded[next++]!;
          if ((await s.post({ encryptedData: e })).status === 200) acknowledged.push(e);
        }
      };
      const load = Promise.all([sender(), sender(), sender()]);
      while (acknowledged.length < 50) await new Promise((r) => setTimeout(r, 10));

      const before = new Set(acknowledged.map(dedupKey));
      const out = join(dir, 'backup.sqlite');
      const child = spawn(process.execPath, [CLI, 'backup', '--config', configFile, '--out', out], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const ackedAtStart = acknowledged.length;
      // A backup that restarts on every write would never end under load.
      const deadline = setTimeout(() => child.kill(), 60_000);
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      clearTimeout(deadline);
      const ackedDuring = acknowledged.length - ackedAtStart;
      stop = true;
      await load;
      await s.close();
      processOutput.push(stdout, stderr);
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout) as { notifications: number; pages: number };
      assert.ok(report.pages > 5 * 1024, `a copy of many steps (${report.pages} pages)`);
      assert.ok(ackedDuring > 0, 'Visa was answered while the backup ran');
      assert.ok(!existsSync(`${out}.partial`), 'no partial file left');

      // Restore: the copy in place of a database file, and the service starts on it.
      const restored = await sqliteDialect.create();
      try {
        copyFileSync(out, restored.url.slice('sqlite:'.length));
        const check = new Database(restored.url.slice('sqlite:'.length), { readonly: true });
        const keys = new Set(
          (
            check.prepare('SELECT dedup_key FROM notifications').all() as { dedup_key: string }[]
          ).map((r) => r.dedup_key),
        );
        assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
        check.close();
        assert.equal(keys.size, report.notifications);
        for (const k of before)
          assert.ok(
            keys.has(k),
            'every notification acknowledged before the backup began is in the copy',
          );
        const r = await startTestServer(pki, { storageUrl: restored.url });
        try {
          assert.equal(
            (await r.post({ encryptedData: encoded[0] })).status,
            200,
            'a retry of a stored notification',
          );
          assert.equal((await r.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 })).length, 1);
        } finally {
          await r.close();
        }
      } finally {
        await restored.drop();
      }

      const again = runCli(['backup', '--config', configFile, '--out', out]);
      assert.equal(again.status, 2, 'an existing destination is refused');
      assert.match(again.stderr, /exists/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });

  it('on PostgreSQL, says what to use instead', { skip: !withPostgres }, async () => {
    const pki = await testPki();
    const db = await postgresDialect.create();
    const dir = mkdtempSync(join(tmpdir(), 'ctp-backup-'));
    try {
      const configFile = join(dir, 'config.json');
      writeFileSync(configFile, JSON.stringify(configFor(pki, { storageUrl: db.url })));
      const r = runCli(['backup', '--config', configFile, '--out', join(dir, 'x')]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /pg_dump/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });
});
