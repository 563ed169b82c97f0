/** Forward-only schema versions for PostgreSQL. Never edit one that has shipped: append. */
export const postgresMigrations: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'notifications',
    sql: `
      CREATE TABLE notifications (
        id                 text PRIMARY KEY,
        dedup_key          text NOT NULL UNIQUE,
        received_at        bigint NOT NULL,
        updated_at         bigint NOT NULL,
        token_requestor_id text NOT NULL,
        event_type         text NOT NULL,
        status             text NOT NULL CHECK (status IN ('accepted', 'quarantined')),
        reason             text,
        reason_fields      text,
        jws_kid            text,
        jwe_kid            text,
        tsp                text,
        first_name         text,
        last_name          text,
        contact_email      text,
        phone_number       text,
        pan_fingerprint    text,
        pan_bin            text,
        pan_last4          text,
        pan_luhn_valid     boolean,
        data_key_id        text,
        pan_ciphertext     bytea,
        payload_ciphertext bytea,
        encrypted_data     text NOT NULL,
        visa_attempts      integer NOT NULL DEFAULT 1
      );
      CREATE INDEX notifications_received ON notifications (received_at DESC, id DESC);
      CREATE INDEX notifications_status ON notifications (status, received_at DESC);
      CREATE INDEX notifications_pan ON notifications (pan_fingerprint, received_at DESC);
    `,
  },
];
