/**
 * The cardholder directory's storage: one row per card, keyed by the card number's keyed
 * fingerprint (the same as notifications'); names, emails and phones only as one AES-256-GCM
 * ciphertext bound to that fingerprint. SQLite (`sqlite-cardholder-store.ts`) and PostgreSQL
 * (`postgres-cardholder-store.ts`) implement it on the notification store's connection.
 */
export interface CardholderRecord {
  fingerprint: string;
  status: 'active' | 'blocked' | 'closed';
  language: string | null;
  dataKeyId: string;
  /** JSON `{firstName, lastName, emails, phones}`, encrypted with AAD = fingerprint. */
  contactCiphertext: Buffer;
}

export interface CardholderStore {
  /** Inserts or replaces each record (re-import updates), in one transaction. */
  upsert(records: readonly CardholderRecord[]): Promise<{ inserted: number; updated: number }>;
  get(fingerprint: string): Promise<CardholderRecord | undefined>;
  count(): Promise<number>;
}
