import type { CardholderUpsert } from '../sql-cardholder-store.js';
import { all, run } from '../sql-script.js';

const UPSERT = `INSERT INTO cardholders (fingerprint, status, language, data_key_id, contact_ciphertext, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (fingerprint) DO UPDATE SET status = excluded.status, language = excluded.language,
    data_key_id = excluded.data_key_id, contact_ciphertext = excluded.contact_ciphertext, updated_at = excluded.updated_at`;

/**
 * Cardholders upserted one statement each (SQLite runs them in-process, in one transaction); a
 * look-up first tells an insert from an update.
 */
export const sqliteCardholderUpsert: CardholderUpsert = function* (records, now) {
  let inserted = 0;
  for (const r of records) {
    const found = yield* all('SELECT 1 FROM cardholders WHERE fingerprint = ?', [r.fingerprint]);
    if (found.length === 0) inserted++;
    yield* run(UPSERT, [
      r.fingerprint,
      r.status,
      r.language,
      r.dataKeyId,
      r.contactCiphertext,
      now,
      now,
    ]);
  }
  return { inserted, updated: records.length - inserted };
};
