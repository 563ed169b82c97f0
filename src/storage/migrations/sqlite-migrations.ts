/** Forward-only schema versions for SQLite. Never edit one that has shipped: append. */
export const sqliteMigrations: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'notifications',
    sql: `
      CREATE TABLE notifications (
        id                 TEXT PRIMARY KEY,
        dedup_key          TEXT NOT NULL UNIQUE,
        received_at        INTEGER NOT NULL,
        updated_at         INTEGER NOT NULL,
        token_requestor_id TEXT NOT NULL,
        event_type         TEXT NOT NULL,
        status             TEXT NOT NULL CHECK (status IN ('accepted', 'quarantined')),
        reason             TEXT,
        reason_fields      TEXT,
        jws_kid            TEXT,
        jwe_kid            TEXT,
        tsp                TEXT,
        first_name         TEXT,
        last_name          TEXT,
        contact_email      TEXT,
        phone_number       TEXT,
        pan_fingerprint    TEXT,
        pan_bin            TEXT,
        pan_last4          TEXT,
        pan_luhn_valid     INTEGER,
        data_key_id        TEXT,
        pan_ciphertext     BLOB,
        payload_ciphertext BLOB,
        encrypted_data     TEXT NOT NULL,
        visa_attempts      INTEGER NOT NULL DEFAULT 1
      ) STRICT;
      CREATE INDEX notifications_received ON notifications (received_at DESC, id DESC);
      CREATE INDEX notifications_status ON notifications (status, received_at DESC);
      CREATE INDEX notifications_pan ON notifications (pan_fingerprint, received_at DESC);
    `,
  },
];
