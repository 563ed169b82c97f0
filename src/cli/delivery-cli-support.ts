import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../config/config-schema.js';
import { openStore } from '../storage/open-store.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import { UsageError } from './cli-support.js';

/** Opens (and migrates) the store named by the config, runs `fn` on its outbox, closes. */
export async function withOutbox<T>(config: Config, fn: (outbox: OutboxStore) => Promise<T>): Promise<T> {
  const store = await openStore(config.storage);
  try {
    await store.migrate();
    return await fn(store.openOutbox());
  } finally {
    await store.close();
  }
}

/** Like `parse`, with positional arguments allowed (e.g. `sinks enable NAME`). */
export function parseWithPositionals<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Prints rows as aligned columns. */
export function printTable(header: string[], rows: string[][], empty: string): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(line(header) + '\n');
  for (const r of rows) process.stdout.write(line(r) + '\n');
  if (rows.length === 0) process.stdout.write(`${empty}\n`);
}
