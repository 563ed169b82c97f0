import type { IssuerScope } from '../domain/issuer-scope.js';
import { type AdminStores, createAdminStores } from './admin-stores.js';
import { SqlAlertStore } from './alert-store.js';
import type { CardholderStore } from './cardholder-store.js';
import type { ListQuery, NotificationRecord } from './notification-record.js';
import type {
  BackupProgress,
  BackupResult,
  NotificationStore,
  StoreOptions,
} from './notification-store.js';
import type { OutboxDialect } from './outbox-dialect.js';
import type { OutboxOptions, OutboxStore } from './outbox-store.js';
import type { RiskStores } from './risk-store.js';
import type { SqlDriver } from './sql-driver.js';
import { type NotificationsDialect, SqlNotifications } from './sql-notifications.js';
import { SqlOutbox } from './sql-outbox.js';
import { SqlRiskStore } from './sql-risk-store.js';

/**
 * The store, written once: notifications, the outbox, the risk, alert and admin stores, all over
 * the dialect's {@link SqlDriver}. A dialect's store (`sqlite-store.ts`, `postgres-store.ts`)
 * adds only its connection (the group commit; the pool), its migrations, backup, and the parts
 * of the outbox and of the cardholder directory whose SQL really differs.
 */
export abstract class SqlStore implements NotificationStore {
  abstract readonly dialect: 'sqlite' | 'postgres';
  readonly #options: StoreOptions & { now: () => number };
  #notifications: SqlNotifications | undefined;

  protected constructor(options: StoreOptions & { now?: () => number }) {
    this.#options = { ...options, now: options.now ?? Date.now };
  }

  /** The driver every store written once runs on: this store's connection or pool. */
  protected abstract sqlDriver(): SqlDriver;
  protected abstract readonly notificationsDialect: NotificationsDialect;
  protected abstract outboxDialect(sql: SqlDriver): OutboxDialect;
  protected abstract cardholderStore(): CardholderStore;
  /** Connections in the pool, for the risk store's batch size (undefined: no pool). */
  protected abstract readonly poolSize: number | undefined;

  abstract migrate(): Promise<void>;
  abstract ping(): Promise<void>;
  abstract backup(
    destination: string,
    onProgress?: (p: BackupProgress) => void,
  ): Promise<BackupResult>;
  abstract close(): Promise<void>;

  get #n(): SqlNotifications {
    this.#notifications ??= new SqlNotifications(this.sqlDriver(), this.notificationsDialect, {
      sinks: this.#options.sinks ?? [],
      issuerSinks: this.#options.issuerSinks ?? new Map(),
      holdMs: this.#options.deliveryHoldMs ?? 0,
      now: this.#options.now,
      onDeliveriesQueued: this.#options.onDeliveriesQueued,
    });
    return this.#notifications;
  }

  // The notifications' own operations are SqlNotifications': these only forward, and restate no
  // types (`implements NotificationStore` checks them against the interface).
  record(rec: NotificationRecord) {
    return this.#n.record(rec);
  }

  updateQuarantined(rec: NotificationRecord) {
    return this.#n.updateQuarantined(rec);
  }

  purge(before: number, batchSize?: number, onBatch?: (purged: number) => void) {
    return this.#n.purge(before, batchSize, onBatch);
  }

  findByDedupKey(dedupKey: string) {
    return this.#n.findByDedupKey(dedupKey);
  }

  countRetry(dedupKey: string) {
    return this.#n.countRetry(dedupKey);
  }

  list(query: ListQuery) {
    return this.#n.list(query);
  }

  listQuarantined(scope: IssuerScope, limit: number, afterId?: string) {
    return this.#n.listQuarantined(scope, limit, afterId);
  }

  openOutbox(options: OutboxOptions = {}): OutboxStore {
    const sql = this.sqlDriver();
    return new SqlOutbox(sql, this.outboxDialect(sql), options);
  }

  openRiskStores(): RiskStores {
    const sql = this.sqlDriver();
    return {
      cardholders: this.cardholderStore(),
      // Assessments are derived data the risk sweep redoes if lost: no fsync of their own.
      risk: new SqlRiskStore(sql, { poolSize: this.poolSize }),
      alerts: new SqlAlertStore(sql),
    };
  }

  openAdminStores(now?: () => number): AdminStores {
    return createAdminStores(this.sqlDriver(), now, {
      // A cardholder's answer is about a card of the one issuer risk runs for (several issuers
      // need risk off): its sinks are every issuer's and that issuer's own.
      sinks: [
        ...(this.#options.sinks ?? []),
        ...[...(this.#options.issuerSinks ?? new Map<string, string[]>()).values()].flat(),
      ],
      onDeliveriesQueued: this.#options.onDeliveriesQueued,
    });
  }
}
