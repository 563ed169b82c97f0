import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from '../../errors.js';
import type { BackupProgress, BackupResult } from '../notification-store.js';

/** Pages copied per step: small enough to report progress, large enough to be quick. */
const PAGES_PER_STEP = 1024;

/**
 * An online copy of the SQLite database at `source` into the new file `destination`, with
 * SQLite's backup API (https://www.sqlite.org/backup.html), consistent as of its start.
 *
 * It reads on a connection of its own, so the store's group commit never runs inside its
 * transaction. The copy runs in steps, and SQLite restarts a backup whenever another connection
 * writes the source between two steps: under a serving process's steady writes it would never
 * finish. Holding a read transaction for the whole copy pins one WAL snapshot, so the writers go
 * on (WAL readers do not block them) and the copy is exactly that snapshot: every notification
 * committed before the backup began, nothing half-written. The copy is written to a temporary
 * name beside `destination`, checked, synced, and linked into place, which fails rather than
 * replace a file that appeared meanwhile.
 */
export async function backupSqlite(
  source: string,
  destination: string,
  onProgress?: (p: BackupProgress) => void,
): Promise<BackupResult> {
  const partial = join(
    dirname(destination),
    `.${basename(destination)}.${randomBytes(6).toString('hex')}.partial`,
  );
  const removePartial = () => {
    for (const suffix of ['', '-journal', '-wal', '-shm'])
      rmSync(`${partial}${suffix}`, { force: true });
  };
  let notifications: number;
  let pages: number;
  try {
    const db = new Database(source, { readonly: true, fileMustExist: true });
    try {
      db.exec('BEGIN');
      notifications = Number(
        (db.prepare('SELECT count(*) AS n FROM notifications').get() as { n: number }).n,
      );
      await db.backup(partial, {
        progress: ({ totalPages, remainingPages }) => {
          onProgress?.({ totalPages, remainingPages });
          return PAGES_PER_STEP;
        },
      });
      db.exec('COMMIT');
    } finally {
      db.close();
    }
    const copy = new Database(partial);
    try {
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
      pages = Number(copy.pragma('page_count', { simple: true }));
      // The copy is a WAL database like its source; leave it as one self-contained file.
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    const fd = openSync(partial, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(partial, destination);
    removePartial();
    const dir = openSync(dirname(destination), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (cause) {
    removePartial();
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new StorageError(`backup destination exists: ${destination}`, { cause });
    }
    throw new StorageError('SQLite backup failed', { cause });
  }
  onProgress?.({ totalPages: pages, remainingPages: 0 });
  return { notifications, pages };
}
