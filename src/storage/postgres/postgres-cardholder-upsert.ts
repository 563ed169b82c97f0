import type { CardholderUpsert } from '../sql-cardholder-store.js';
import { all } from '../sql-script.js';

/**
 * Cardholders upserted in one statement per batch (one round trip): the columns unnested.
 * `xmax = 0` holds only on a freshly inserted row, which tells inserts from updates.
 */
export const postgresCardholderUpsert: CardholderUpsert = function* (records, now) {
  const rows = yield* all<{ inserted: boolean }>(
    `INSERT INTO cardholders (fingerprint, status, language, data_key_id, contact_ciphertext, created_at, updated_at)
     SELECT f, s, l, k, c, ?, ? FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::bytea[]) AS t (f, s, l, k, c)
     ON CONFLICT (fingerprint) DO UPDATE SET status = excluded.status, language = excluded.language,
       data_key_id = excluded.data_key_id, contact_ciphertext = excluded.contact_ciphertext, updated_at = excluded.updated_at
     RETURNING (xmax = 0) AS inserted`,
    [
      now,
      now,
      records.map((r) => r.fingerprint),
      records.map((r) => r.status),
      records.map((r) => r.language),
      records.map((r) => r.dataKeyId),
      records.map((r) => r.contactCiphertext),
    ],
  );
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted };
};
