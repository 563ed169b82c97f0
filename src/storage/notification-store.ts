import type { IssuerScope } from '../domain/issuer-scope.js';
import type { NotificationStatus } from '../domain/notification-statuses.js';
import type { AdminStores } from './admin-stores.js';
import type {
  ListQuery,
  NotificationRecord,
  NotificationSummary,
  QuarantinedNotification,
  RecordOutcome,
} from './notification-record.js';
import type { OutboxOptions, OutboxStore } from './outbox-store.js';
import type { RiskStores } from './risk-store.js';

/**
 * The one narrow storage interface. SQLite (`sqlite-store.ts`) and PostgreSQL
 * (`postgres-store.ts`) implement it; everything above storage sees only this, and reaches the
 * other stores on the same connection (outbox, risk, admin) through it.
 */

/** What a store needs to know about delivery. */
export interface StoreOptions {
  /**
   * Configured sink names: accepting a notification (or promoting a quarantined one) writes
   * one outbox row per sink in the same transaction. Default none.
   */
  sinks?: readonly string[];
  /**
   * Sink names of one issuer only, by issuer id: its notifications also get one outbox row per
   * sink named here. Default none.
   */
  issuerSinks?: ReadonlyMap<string, readonly string[]>;
  /**
   * How long new deliveries wait for the notification's risk assessment (`risk.deliveryWaitSeconds`
   * when risk is on): they are written due that much later, and saving the assessment makes them
   * due at once. Default 0.
   */
  deliveryHoldMs?: number;
  /** Called after a commit that queued deliveries (wakes an in-process delivery worker). */
  onDeliveriesQueued?: () => void;
}

/** How far a backup is (SQLite pages). */
export interface BackupProgress {
  totalPages: number;
  remainingPages: number;
}

/** What a backup holds. */
export interface BackupResult {
  /** Notifications in the copy: every one committed before the backup began. */
  notifications: number;
  pages: number;
}

export interface NotificationStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Applies pending migrations (forward-only, under a lock). */
  migrate(): Promise<void>;
  /**
   * Stores a notification durably, deduplicating on `dedupKey`. A retry of an accepted
   * notification changes nothing but its attempt count; a retry that now passes promotes the
   * quarantined row in place. Resolves only after commit.
   * @throws StorageError when the store cannot commit.
   */
  record(rec: NotificationRecord): Promise<RecordOutcome>;
  /** Status of an already-stored `encryptedData` (by dedup key), to skip decrypting retries. */
  findByDedupKey(dedupKey: string): Promise<{ id: string; status: NotificationStatus } | undefined>;
  /** Counts a Visa retry of an accepted notification without rewriting it. */
  countRetry(dedupKey: string): Promise<void>;
  list(query: ListQuery): Promise<NotificationSummary[]>;
  /** Quarantined rows of the scope's issuers in id order after `afterId`. */
  listQuarantined(
    scope: IssuerScope,
    limit: number,
    afterId?: string,
  ): Promise<QuarantinedNotification[]>;
  /** Replaces a quarantined row's content with a reprocessing result (same id, same dedup key). */
  updateQuarantined(rec: NotificationRecord): Promise<RecordOutcome>;
  /**
   * Retention: removes the personal data of rows received before `before` (ms since the
   * epoch): first and last name, email, phone, the card-number and payload ciphertexts and the
   * envelope as received (decryptable with the issuer's key), and the encrypted recipient of
   * cardholder alerts that will not be sent. Keeps the fingerprint, BIN, last
   * four, Luhn flag, status, reason and counts. Skips rows with a delivery still pending or
   * failed (the event is built from the row when delivered). Idempotent, in batches of `batchSize`
   * (default 500) so writers are never held up for long; `onBatch` hears the running total after each.
   * @returns the number of rows purged by this call.
   */
  purge(before: number, batchSize?: number, onBatch?: (purged: number) => void): Promise<number>;
  /** Resolves when the store answers; throws StorageError otherwise. */
  ping(): Promise<void>;
  /**
   * An online, consistent copy of the whole database into the new file `destination`, taken
   * while others keep writing: it holds every notification committed before it began. SQLite
   * only; a PostgreSQL database is backed up with PostgreSQL's own tools.
   * @throws StorageError when `destination` exists, the copy fails, or on PostgreSQL.
   */
  backup(destination: string, onProgress?: (p: BackupProgress) => void): Promise<BackupResult>;
  /** The delivery queue on this store's connection (pool); closed with the store. */
  openOutbox(options?: OutboxOptions): OutboxStore;
  /** The cardholder, risk and alert stores on this store's connection (pool). */
  openRiskStores(): RiskStores;
  /**
   * Operators, sessions, the audit log and the console's read queries. `now` defaults to
   * `Date.now`.
   */
  openAdminStores(now?: () => number): AdminStores;
  close(): Promise<void>;
}
