import { existsSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
import type { BackupProgress, BackupResult } from './notification-store.js';

/** Pages copied per step: small enough to report progress, large enough to be quick. */
const PAGES_PER_STEP = 1024;

/**
 * An online copy of `db` into `destination` with SQLite's backup API
 * (https://www.sqlite.org/backup.html), consistent as of its start.
 *
 * The copy runs in steps, and SQLite restarts a backup whenever another connection writes the
 * source between two steps: under a serving process's steady writes it would never finish.
 * Holding a read transaction on the source for the whole copy pins one WAL snapshot, so the
 * writers go on (WAL readers do not block them) and the copy is exactly that snapshot: every
 * notification committed before the backup began, nothing half-written. The copy is written
 * beside `destination` and renamed into place only once complete and checked.
 */
export async function backupSqlite(
  db: Database.Database,
  destination: string,
  onProgress?: (p: BackupProgress) => void,
): Promise<BackupResult> {
  if (existsSync(destination)) throw new StorageError(`backup destination exists: ${destination}`);
  const partial = `${destination}.partial`;
  rmSync(partial, { force: true });
  let notifications: number;
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
  } catch (cause) {
    rmSync(partial, { force: true });
    throw new StorageError('SQLite backup failed', { cause });
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
  }
  let pages: number;
  try {
    const copy = new Database(partial);
    try {
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
      pages = Number(copy.pragma('page_count', { simple: true }));
      // The copy is a WAL database like its source; leave it as one file.
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    renameSync(partial, destination);
  } catch (cause) {
    rmSync(partial, { force: true });
    throw new StorageError('SQLite backup could not be checked', { cause });
  }
  return { notifications, pages };
}
