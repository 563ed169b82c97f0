import { openStore } from '../storage/open-store.js';
import { loadConfigFrom, parse } from './cli-support.js';

export const migrateHelp = `ctp-notify migrate [--config FILE]
  Applies pending schema migrations (forward-only, under a lock) and exits.`;

export async function migrateCommand(argv: string[]): Promise<number> {
  const f = parse(argv, { config: { type: 'string' } });
  const { config } = loadConfigFrom(f.config);
  const store = await openStore(config.storage);
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  process.stdout.write(`migrated (${store.dialect})\n`);
  return 0;
}
