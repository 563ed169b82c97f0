/**
 * The one narrow storage interface. SQLite (`sqlite-store.ts`) and PostgreSQL
 * (`postgres-store.ts`) implement it; everything above storage sees only this.
 */

export type NotificationStatus = 'accepted' | 'quarantined';

/** A notification as the pipeline hands it to storage. Card data arrive already protected. */
export interface NotificationRecord {
  id: string;
  /** SHA-256 (base64url) of `encryptedData`: Visa retries the same value; a unique key decides. */
  dedupKey: string;
  receivedAt: number;
  tokenRequestorId: string;
  eventType: string;
  status: NotificationStatus;
  /** Quarantine reason code; null when accepted. */
  reason: string | null;
  /** Field paths behind a PAYLOAD_INVALID reason (never values). */
  reasonFields: string[] | null;
  jwsKid: string | null;
  jweKid: string | null;
  tsp: string | null;
  firstName: string | null;
  lastName: string | null;
  contactEmail: string | null;
  phoneNumber: string | null;
  panFingerprint: string | null;
  panBin: string | null;
  panLast4: string | null;
  panLuhnValid: boolean | null;
  /** Data key that encrypted `panCiphertext` and `payloadCiphertext`. */
  dataKeyId: string | null;
  panCiphertext: Buffer | null;
  /** The whole decrypted payload minus nothing, AES-256-GCM: unknown fields are kept. */
  payloadCiphertext: Buffer | null;
  /** As received: encrypted to the issuer, kept for audit and reprocessing. */
  encryptedData: string;
}

/** What `record` did. */
export interface RecordOutcome {
  id: string;
  status: NotificationStatus;
  /** inserted: new row; duplicate: already stored (Visa retry); promoted: a quarantined row now accepted. */
  result: 'inserted' | 'duplicate' | 'promoted';
}

/** Row shape for listings (no ciphertexts, no raw data). */
export interface NotificationSummary {
  id: string;
  receivedAt: number;
  tokenRequestorId: string;
  eventType: string;
  status: NotificationStatus;
  reason: string | null;
  reasonFields: string[] | null;
  tsp: string | null;
  panBin: string | null;
  panLast4: string | null;
  panLuhnValid: boolean | null;
  panFingerprint: string | null;
  firstName: string | null;
  lastName: string | null;
  contactEmail: string | null;
  phoneNumber: string | null;
  visaAttempts: number;
  /** When retention removed this row's personal data (ms since the epoch), else null. */
  purgedAt: number | null;
}

export interface ListQuery {
  /** Default 50. */
  limit?: number;
  status?: NotificationStatus;
  /** Exclusive upper bound on (receivedAt, id), for paging newest first. */
  before?: { receivedAt: number; id: string };
}

/** A quarantined row with what reprocessing needs. */
export interface QuarantinedNotification {
  id: string;
  dedupKey: string;
  receivedAt: number;
  tokenRequestorId: string;
  eventType: string;
  reason: string | null;
  encryptedData: string;
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
  /** Quarantined rows in id order after `afterId`. */
  listQuarantined(limit: number, afterId?: string): Promise<QuarantinedNotification[]>;
  /** Replaces a quarantined row's content with a reprocessing result (same id, same dedup key). */
  updateQuarantined(rec: NotificationRecord): Promise<RecordOutcome>;
  /**
   * Retention: removes the personal data of rows received before `before` (ms since the
   * epoch): first and last name, email, phone, the card-number and payload ciphertexts and the
   * envelope as received (decryptable with the issuer's key), and the encrypted recipient of
   * cardholder alerts that will not be sent. Keeps the fingerprint, BIN, last
   * four, Luhn flag, status, reason and counts. Skips rows with a delivery still pending or
   * failed (the event is built from the row when delivered). Idempotent, in batches of `batchSize`
   * (default 500) so writers are never held up for long.
   * @returns the number of rows purged by this call.
   */
  purge(before: number, batchSize?: number): Promise<number>;
  /** Resolves when the store answers; throws StorageError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
