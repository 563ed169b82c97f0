import type { IssuerScope } from '../domain/issuer-scope.js';
/** The shapes a notification takes in and out of storage (see `notification-store.ts`). */

import type { NotificationStatus } from '../domain/notification-statuses.js';

/**
 * What a notification says of the enroller and the card, in the clear (the card number only as
 * fingerprint, BIN and last four): declared once for the record, its listing row and what the
 * risk assessment reads.
 */
export interface EnrollerFields {
  firstName: string | null;
  lastName: string | null;
  contactEmail: string | null;
  phoneNumber: string | null;
  panFingerprint: string | null;
  panBin: string | null;
  panLast4: string | null;
  panLuhnValid: boolean | null;
}

/** The card number as stored: encrypted, with AAD = the dedup key (see the pipeline). */
export interface EncryptedPan {
  /** Data key that encrypted `panCiphertext` (and the record's `payloadCiphertext`). */
  dataKeyId: string | null;
  panCiphertext: Buffer | null;
}

/** A notification as the pipeline hands it to storage. Card data arrive already protected. */
export interface NotificationRecord extends EnrollerFields, EncryptedPan {
  id: string;
  /** The issuer whose endpoint received it (`default` without `issuers`). */
  issuer: string;
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
  /** The whole decrypted payload minus nothing, AES-256-GCM: unknown fields are kept. */
  payloadCiphertext: Buffer | null;
  /** As received: encrypted to the issuer, kept for audit and reprocessing. */
  encryptedData: string;
}

/** What `record` did. */
export interface RecordOutcome {
  id: string;
  status: NotificationStatus;
  /**
   * inserted: new row; duplicate: already stored (Visa retry); promoted: a quarantined row now
   * accepted.
   */
  result: 'inserted' | 'duplicate' | 'promoted';
}

/** Row shape for listings (no ciphertexts, no raw data). */
export interface NotificationSummary
  extends EnrollerFields,
    Pick<
      NotificationRecord,
      | 'id'
      | 'issuer'
      | 'receivedAt'
      | 'tokenRequestorId'
      | 'eventType'
      | 'status'
      | 'reason'
      | 'reasonFields'
      | 'tsp'
    > {
  visaAttempts: number;
  /** When retention removed this row's personal data (ms since the epoch), else null. */
  purgedAt: number | null;
}

export interface ListQuery {
  /** The issuers whose rows may match (required). */
  scope: IssuerScope;
  /** Default 50. */
  limit?: number;
  status?: NotificationStatus;
  /** Exclusive upper bound on (receivedAt, id), for paging newest first. */
  before?: { receivedAt: number; id: string };
}

/** A quarantined row with what reprocessing needs. */
export type QuarantinedNotification = Pick<
  NotificationRecord,
  | 'id'
  | 'issuer'
  | 'dedupKey'
  | 'receivedAt'
  | 'tokenRequestorId'
  | 'eventType'
  | 'reason'
  | 'encryptedData'
>;
