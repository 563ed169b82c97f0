import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SQLITE_PAGE_SIZE, SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { acceptedRecord, testProtector } from '../support/records.js';

const dp = testProtector();

/** The page size and journal mode written in the file, read by a connection of its own. */
function fileFormat(path: string): { pageSize: number; journalMode: string } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      pageSize: db.pragma('page_size', { simple: true }) as number,
      journalMode: db.pragma('journal_mode', { simple: true }) as string,
    };
  } finally {
    db.close();
  }
}

describe('SQLite page size', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctp-page-size-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates new files with 8192-byte pages, in WAL mode', async () => {
    const path = join(dir, 'new.sqlite');
    const store = new SqliteStore(path);
    await store.migrate();
    await store.record(acceptedRecord(dp, Date.now()));
    await store.close();
    assert.equal(SQLITE_PAGE_SIZE, 8192);
    assert.deepEqual(fileFormat(path), { pageSize: 8192, journalMode: 'wal' });
  });

  it('opens a file made with 4096-byte pages as it is, and keeps writing to it', async () => {
    const path = join(dir, 'old.sqlite');
    const old = new Database(path);
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    old.close();
    const store = new SqliteStore(path);
    await store.migrate();
    const rec = acceptedRecord(dp, Date.now());
    assert.equal((await store.record(rec)).result, 'inserted');
    assert.equal((await store.findByDedupKey(rec.dedupKey))?.id, rec.id);
    await store.close();
    assert.deepEqual(fileFormat(path), { pageSize: 4096, journalMode: 'wal' });
  });
});
