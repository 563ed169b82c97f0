import type { Config } from '../config/config-schema.js';
import type { NotificationStore, StoreOptions } from './notification-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/**
 * Opens the store named by `storage.url` (`sqlite:PATH`, `postgres://…`). Does not migrate.
 * PostgreSQL's modules load only when asked for, so the embedded default never loads `pg`.
 */
export async function openStore(
  storage: Omit<Config['storage'], 'preparedStatements'> & { preparedStatements?: boolean },
  options: StoreOptions = {},
): Promise<NotificationStore> {
  if (storage.url.startsWith('sqlite:'))
    return new SqliteStore(storage.url.slice('sqlite:'.length), options);
  const { PostgresStore } = await import('./postgres/postgres-store.js');
  return new PostgresStore(storage, options);
}
