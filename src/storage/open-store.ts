import type { Config } from '../config/config-schema.js';
import type { NotificationStore } from './notification-store.js';
import { SqliteStore } from './sqlite-store.js';

/** Opens the store named by `storage.url` (`sqlite:PATH`, `postgres://…`). Does not migrate. */
export async function openStore(storage: Config['storage']): Promise<NotificationStore> {
  if (storage.url.startsWith('sqlite:')) return new SqliteStore(storage.url.slice('sqlite:'.length));
  const { PostgresStore } = await import('./postgres-store.js');
  return new PostgresStore(storage);
}
