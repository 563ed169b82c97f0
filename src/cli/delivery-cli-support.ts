import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Config } from '../config/config-schema.js';
import { openStore } from '../storage/open-store.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import { UsageError } from './cli-support.js';

/** Opens (and migrates) the store named by the config, runs `fn` on its outbox, closes. */
export async function withOutbox<T>(
  config: Config,
  fn: (outbox: OutboxStore) => Promise<T>,
): Promise<T> {
  const store = await openStore(config.storage);
  try {
    await store.migrate();
    return await fn(store.openOutbox());
  } finally {
    await store.close();
  }
}

/** Like `parse`, with positional arguments allowed (e.g. `sinks enable NAME`). */
export function parseWithPositionals<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
