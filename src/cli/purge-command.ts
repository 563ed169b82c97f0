import { purgeExpired } from '../retention/retention.js';
import { openStore } from '../storage/open-store.js';
import { loadConfigFrom, parse, UsageError } from './cli-support.js';
import { progress } from './progress.js';

export const purgeHelp = `ctp-notify purge [--config FILE] [--quiet]
  Removes the personal data of notifications older than retention.days (names, email, phone,
  encrypted card numbers and payloads); fingerprints, BIN/last four and counts stay.
  serve does the same every retention.intervalMinutes.`;

export async function purgeCommand(argv: string[]): Promise<number> {
  const f = parse(argv, { config: { type: 'string' }, quiet: { type: 'boolean' } });
  const { config } = loadConfigFrom(f.config);
  if (config.retention === undefined)
    throw new UsageError('config /retention/days is not set: nothing to purge');
  const store = await openStore(config.storage);
  try {
    await store.migrate();
    const bar = progress('purge', { quiet: f.quiet === true, unit: ' rows' });
    let result: Awaited<ReturnType<typeof purgeExpired>>;
    try {
      result = await purgeExpired(store, config.retention, Date.now(), (n) => bar.update(n));
    } finally {
      bar.end();
    }
    const { purged, before } = result;
    process.stdout.write(
      `${JSON.stringify({ purged, before: new Date(before).toISOString(), days: config.retention.days })}\n`,
    );
  } finally {
    await store.close();
  }
  return 0;
}
