import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

/** A small tmpfs of our own (needs root, as CI has); undefined when it cannot be mounted. */
function mountTmpfs(sizeMb: number): { dir: string; unmount(): void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'ctp-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], {
      stdio: 'ignore',
    });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const probe = mountTmpfs(1);
probe?.unmount();

describe('the SQLite volume runs full while serving', () => {
  it('answers 500 (Visa retries), loses nothing acknowledged, says why, and recovers once space is freed', {
    skip: probe === undefined ? 'cannot mount a tmpfs here (needs root)' : false,
  }, async () => {
    const fs = mountTmpfs(8)!;
    const pki = await testPki();
    let s: TestServer | undefined;
    try {
      s = await startTestServer(pki, { storageUrl: `sqlite:${join(fs.dir, 'ctp.sqlite')}` });
      const encoded = await Promise.all(
        Array.from({ length: 600 }, () => s!.encode(enrollmentPayload())),
      );
      // Leave about 256 KB: a few dozen notifications' worth.
      const ballast = join(fs.dir, 'ballast');
      const free = () => {
        const st = statfsSync(fs.dir);
        return st.bavail * st.bsize;
      };
      writeFileSync(ballast, Buffer.alloc(Math.max(0, free() - 256 * 1024)));

      const acknowledged: number[] = [];
      const refused: number[] = [];
      let i = 0;
      for (; i < encoded.length && refused.length < 5; i++) {
        const status: number = (await s.post({ encryptedData: encoded[i] })).status;
        if (status === 200) acknowledged.push(i);
        else {
          assert.equal(status, 500, 'a full disk is a 500, which Visa retries');
          refused.push(i);
        }
      }
      assert.ok(refused.length === 5, `the disk filled (${acknowledged.length} stored first)`);
      assert.ok(acknowledged.length > 0);
      const logs = s.logs.join('');
      assert.match(logs, /"causeCode":"SQLITE_FULL"/, 'the log says why');

      rmSync(ballast);
      // Visa's retries of the refused ones, then new ones: no restart needed.
      for (const r of refused)
        assert.equal(
          (await s.post({ encryptedData: encoded[r] })).status,
          200,
          'a retry after space is freed',
        );
      for (let j = 0; j < 10; j++, i++)
        assert.equal((await s.post({ encryptedData: encoded[i] })).status, 200);

      const stored = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1000 });
      assert.equal(
        stored.length,
        acknowledged.length + refused.length + 10,
        'nothing acknowledged was lost, nothing twice',
      );
      await s.close();
      s = undefined;
      // And it all survives a restart on the same file.
      s = await startTestServer(pki, { storageUrl: `sqlite:${join(fs.dir, 'ctp.sqlite')}` });
      assert.equal(
        (await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1000 })).length,
        acknowledged.length + refused.length + 10,
      );
    } finally {
      await s?.close();
      fs.unmount();
    }
  });
});
