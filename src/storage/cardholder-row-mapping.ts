import type { CardholderRecord } from './cardholder-store.js';

/** A `cardholders` row (either dialect's driver) as a record. */
export function toCardholderRecord(r: Record<string, unknown>): CardholderRecord {
  return {
    fingerprint: String(r.fingerprint),
    status: r.status as CardholderRecord['status'],
    language: r.language == null ? null : String(r.language),
    dataKeyId: String(r.data_key_id),
    contactCiphertext: Buffer.from(r.contact_ciphertext as Uint8Array),
  };
}
