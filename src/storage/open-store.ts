import type { Config } from '../config/config-schema.js';
import type { NotificationStore } from './notification-store.js';
import type { OutboxStore } from './outbox-store.js';
import { SqliteStore } from './sqlite-store.js';

/** What a store needs to know about delivery. */
export interface StoreOptions {
  /**
   * Configured sink names: accepting a notification (or promoting a quarantined one) writes
   * one outbox row per sink in the same transaction. Default none.
   */
  sinks?: readonly string[];
  /** Called after a commit that queued deliveries (wakes an in-process delivery worker). */
  onDeliveriesQueued?: () => void;
}

/** Opens the store named by `storage.url` (`sqlite:PATH`, `postgres://…`). Does not migrate. */
export async function openStore(storage: Config['storage'], options: StoreOptions = {}): Promise<NotificationStore> {
  if (storage.url.startsWith('sqlite:')) return new SqliteStore(storage.url.slice('sqlite:'.length), options);
  const { PostgresStore } = await import('./postgres-store.js');
  return new PostgresStore(storage, options);
}

/** The delivery queue on the same connection (pool) as `store`. */
export async function openOutbox(store: NotificationStore, options: { riskWaitMs?: number | undefined; now?: () => number } = {}): Promise<OutboxStore> {
  if (store instanceof SqliteStore) {
    const { SqliteOutbox } = await import('./sqlite-outbox.js');
    return new SqliteOutbox(store, options);
  }
  const [{ PostgresStore }, { PostgresOutbox }] = await Promise.all([import('./postgres-store.js'), import('./postgres-outbox.js')]);
  if (store instanceof PostgresStore) return new PostgresOutbox(store, options);
  throw new Error('no outbox for this store');
}
