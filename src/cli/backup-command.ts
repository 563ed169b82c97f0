import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openStore } from '../storage/open-store.js';
import { loadConfigFrom, parse, UsageError } from './cli-support.js';
import { progress } from './progress.js';

export const backupHelp = `ctp-notify backup --out FILE [--config FILE] [--quiet]
  Copies the SQLite database, online, into the new file FILE while the service keeps serving:
  the copy holds every notification committed before the backup began. Restore: stop the
  service, put FILE in place of storage.url's file (remove its -wal and -shm files), start.
  PostgreSQL: use pg_dump or base backups with WAL archiving (docs/operations.md).`;

export async function backupCommand(argv: string[]): Promise<number> {
  const f = parse(argv, {
    config: { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (!f.out) throw new UsageError('--out FILE is required');
  const { config } = loadConfigFrom(f.config);
  if (!config.storage.url.startsWith('sqlite:')) {
    throw new UsageError(
      'backup copies SQLite only: back PostgreSQL up with pg_dump or base backups (docs/operations.md)',
    );
  }
  const source = config.storage.url.slice('sqlite:'.length);
  if (source === ':memory:' || !existsSync(source))
    throw new UsageError(`no database at ${source}`);
  const out = resolve(f.out);
  if (existsSync(out)) throw new UsageError(`${out} exists: give a new file`);
  const store = await openStore(config.storage);
  try {
    const bar = progress('backup', { quiet: f.quiet === true, unit: ' pages' });
    const started = performance.now();
    let result: Awaited<ReturnType<typeof store.backup>>;
    try {
      result = await store.backup(out, (p) =>
        bar.update(p.totalPages - p.remainingPages, p.totalPages),
      );
    } finally {
      bar.end();
    }
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    process.stdout.write(
      `${JSON.stringify({ out, notifications: result.notifications, pages: result.pages, seconds })}\n`,
    );
  } finally {
    await store.close();
  }
  return 0;
}
