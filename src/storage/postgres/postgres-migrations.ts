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
  {
    // The outbox: one row per (accepted notification, sink), written in the
    // notification's own transaction; replays add rows. 'failed' = awaiting a retry.
    // Versions 3 and 4 are reserved for the risk and console changes.
    version: 2,
    name: 'deliveries',
    sql: `
      CREATE TABLE deliveries (
        id              text PRIMARY KEY,
        notification_id text NOT NULL REFERENCES notifications (id),
        sink            text NOT NULL,
        origin          text NOT NULL CHECK (origin IN ('accepted', 'replay')),
        status          text NOT NULL CHECK (status IN ('pending', 'failed', 'delivered', 'dead')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        lease_until     bigint,
        lease_owner     text,
        created_at      bigint NOT NULL,
        updated_at      bigint NOT NULL,
        delivered_at    bigint,
        last_error      text,
        last_status     integer
      );
      CREATE INDEX deliveries_due ON deliveries (sink, next_attempt_at) WHERE status IN ('pending', 'failed');
      CREATE INDEX deliveries_created ON deliveries (created_at DESC, id DESC);
      CREATE INDEX deliveries_notification ON deliveries (notification_id);
      CREATE TABLE sink_states (
        name            text PRIMARY KEY,
        disabled_at     bigint,
        disabled_reason text,
        updated_at      bigint NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'cardholders, risk assessments, cardholder alerts',
    sql: `
      CREATE TABLE cardholders (
        fingerprint        text PRIMARY KEY,
        status             text NOT NULL CHECK (status IN ('active', 'blocked', 'closed')),
        language           text,
        data_key_id        text NOT NULL,
        contact_ciphertext bytea NOT NULL,
        created_at         bigint NOT NULL,
        updated_at         bigint NOT NULL
      );
      CREATE TABLE risk_assessments (
        notification_id  text PRIMARY KEY REFERENCES notifications (id),
        received_at      bigint NOT NULL,
        assessed_at      bigint NOT NULL,
        card_fingerprint text,
        email_hash       text,
        phone_hash       text,
        email_on_file    boolean,
        phone_on_file    boolean,
        score            integer NOT NULL,
        level            text NOT NULL CHECK (level IN ('low', 'medium', 'high')),
        reasons          text NOT NULL,
        shadow           text NOT NULL,
        directory        text NOT NULL
      );
      CREATE INDEX risk_assessments_card ON risk_assessments (card_fingerprint, received_at);
      CREATE INDEX risk_assessments_email ON risk_assessments (email_hash, received_at);
      CREATE INDEX risk_assessments_phone ON risk_assessments (phone_hash, received_at);
      CREATE INDEX risk_assessments_level ON risk_assessments (level, received_at);
      CREATE TABLE risk_alerts (
        id                   text PRIMARY KEY,
        notification_id      text NOT NULL UNIQUE REFERENCES notifications (id),
        card_fingerprint     text,
        created_at           bigint NOT NULL,
        received_at          bigint NOT NULL,
        status               text NOT NULL CHECK (status IN ('pending', 'sent', 'suppressed', 'no_contact', 'dead')),
        level                text NOT NULL,
        language             text,
        pan_last4            text,
        data_key_id          text,
        recipient_ciphertext bytea,
        attempts             integer NOT NULL DEFAULT 0,
        next_attempt_at      bigint NOT NULL,
        lease_until          bigint,
        last_error           text,
        sent_at              bigint
      );
      CREATE INDEX risk_alerts_due ON risk_alerts (status, next_attempt_at);
      CREATE TABLE risk_alert_cards (
        card_fingerprint text PRIMARY KEY,
        last_alert_at    bigint NOT NULL
      );
    `,
  },
  {
    // Operators of the admin console. Only hashes of passwords, API tokens and session
    // tokens are kept. The audit log is append-only: a trigger refuses UPDATE, DELETE, TRUNCATE.
    version: 4,
    name: 'operators, sessions, audit log',
    sql: `
      CREATE TABLE operators (
        id            text PRIMARY KEY,
        name          text NOT NULL UNIQUE,
        role          text NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
        password_hash text NOT NULL,
        token_hash    text NOT NULL UNIQUE,
        created_at    bigint NOT NULL,
        disabled_at   bigint,
        last_login_at bigint
      );
      CREATE TABLE operator_sessions (
        id_hash      text PRIMARY KEY,
        operator_id  text NOT NULL REFERENCES operators (id),
        csrf_token   text NOT NULL,
        created_at   bigint NOT NULL,
        last_seen_at bigint NOT NULL,
        expires_at   bigint NOT NULL,
        address      text
      );
      CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
      CREATE TABLE audit_log (
        seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at         bigint NOT NULL,
        actor      text NOT NULL,
        actor_role text,
        action     text NOT NULL,
        target     text,
        outcome    text NOT NULL,
        address    text,
        detail     text
      );
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
      CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    `,
  },
  {
    // Version 5 is this change's number by agreement (2–4: outbox, risk, console).
    version: 5,
    name: 'retention',
    sql: `
      ALTER TABLE notifications ADD COLUMN purged_at bigint;
      CREATE INDEX notifications_unpurged ON notifications (received_at) WHERE purged_at IS NULL;
    `,
  },
  {
    // Fraud cases and the cardholder's answer; the `channel` operator role.
    version: 6,
    name: 'cases, cardholder answers, assessment inputs, channel role',
    sql: `
      ALTER TABLE operators DROP CONSTRAINT operators_role_check;
      ALTER TABLE operators ADD CONSTRAINT operators_role_check
        CHECK (role IN ('viewer', 'analyst', 'admin', 'channel'));

      ALTER TABLE risk_assessments ADD COLUMN inputs text;
      ALTER TABLE risk_alerts ADD COLUMN answer text CHECK (answer IN ('recognised', 'not_recognised'));
      ALTER TABLE risk_alerts ADD COLUMN answered_at bigint;
      ALTER TABLE risk_alerts ADD COLUMN answered_by text;
      ALTER TABLE deliveries ADD COLUMN event text NOT NULL DEFAULT 'enrollment'
        CHECK (event IN ('enrollment', 'cardholder_answer'));
      ALTER TABLE deliveries ADD COLUMN alert_id text REFERENCES risk_alerts (id);

      CREATE TABLE cases (
        id               text PRIMARY KEY,
        card_fingerprint text,
        pan_last4        text,
        status           text NOT NULL CHECK (status IN ('open', 'in_review', 'closed')),
        level            text NOT NULL CHECK (level IN ('low', 'medium', 'high')),
        opened_by        text NOT NULL CHECK (opened_by IN ('assessment', 'cardholder_answer')),
        opened_at        bigint NOT NULL,
        updated_at       bigint NOT NULL,
        assignee         text,
        escalated_at     bigint,
        closed_at        bigint,
        closed_by        text,
        disposition      text CHECK (disposition IN ('confirmed_fraud', 'legitimate', 'inconclusive')),
        CHECK ((status = 'closed') = (disposition IS NOT NULL))
      );
      CREATE UNIQUE INDEX cases_one_open_per_card ON cases (card_fingerprint) WHERE status <> 'closed';
      CREATE INDEX cases_queue ON cases (status, opened_at);
      CREATE TABLE case_attempts (
        notification_id text PRIMARY KEY REFERENCES notifications (id),
        case_id         text NOT NULL REFERENCES cases (id),
        added_at        bigint NOT NULL
      );
      CREATE INDEX case_attempts_case ON case_attempts (case_id);
      CREATE TABLE case_notes (
        seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        case_id text NOT NULL REFERENCES cases (id),
        at      bigint NOT NULL,
        author  text NOT NULL,
        kind    text NOT NULL CHECK (kind IN ('opened', 'attempt', 'assigned', 'note', 'answer', 'reopened', 'closed')),
        text    text,
        detail  text
      );
      CREATE INDEX case_notes_case ON case_notes (case_id, seq);
      CREATE FUNCTION case_notes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'case_notes is append-only'; END $$;
      CREATE TRIGGER case_notes_no_change BEFORE UPDATE OR DELETE ON case_notes
        FOR EACH ROW EXECUTE FUNCTION case_notes_append_only();
      CREATE TRIGGER case_notes_no_truncate BEFORE TRUNCATE ON case_notes
        FOR EACH STATEMENT EXECUTE FUNCTION case_notes_append_only();
    `,
  },
  {
    // One outbox for everything that leaves: a cardholder alert is a message of kind 'alert' in
    // deliveries, sent by the same worker as the events (its sink is the alert channel). The
    // alerts still to send, those given up and those sent move in with their attempts; the
    // alert row keeps what the alert is (status, recipient, answer).
    version: 7,
    name: 'one outbox: alerts as deliveries of kind alert',
    sql: `
      -- A large deliveries table takes longer than the pool's statement timeout to index.
      SET LOCAL statement_timeout = 0;
      -- A constant default is metadata only; the CHECK is NOT VALID so that no scan holds the
      -- table's lock (every existing row has the default, which satisfies it).
      ALTER TABLE deliveries ADD COLUMN kind text NOT NULL DEFAULT 'event';
      ALTER TABLE deliveries ADD CONSTRAINT deliveries_kind_check CHECK (kind IN ('event', 'alert')) NOT VALID;
      INSERT INTO deliveries
        (id, notification_id, sink, origin, status, attempts, next_attempt_at, created_at, updated_at,
         delivered_at, last_error, event, alert_id, kind)
      SELECT a.id, a.notification_id, 'alert:cardholder', 'accepted',
             CASE a.status WHEN 'sent' THEN 'delivered' WHEN 'dead' THEN 'dead'
                           ELSE CASE WHEN a.attempts > 0 THEN 'failed' ELSE 'pending' END END,
             a.attempts, a.next_attempt_at, a.created_at, coalesce(a.sent_at, a.created_at),
             a.sent_at, a.last_error, 'enrollment', a.id, 'alert'
        FROM risk_alerts a WHERE a.status IN ('pending', 'sent', 'dead');
      CREATE INDEX deliveries_alert ON deliveries (alert_id) WHERE alert_id IS NOT NULL;
      -- The outbox's from now on: the previous release's sender claims only expired leases.
      UPDATE risk_alerts SET lease_until = 8000000000000000 WHERE status = 'pending';
    `,
  },
  {
    // Several issuers in one deployment: every notification names the issuer whose endpoint
    // received it. Rows stored before are the one issuer's a configuration without `issuers`
    // has, `default`.
    version: 8,
    name: 'issuers: every notification names its issuer',
    sql: `
      -- A large notifications table takes longer than the pool's statement timeout to index.
      SET LOCAL statement_timeout = 0;
      ALTER TABLE notifications ADD COLUMN issuer text NOT NULL DEFAULT 'default';
      CREATE INDEX notifications_issuer ON notifications (issuer, received_at DESC, id DESC);
    `,
  },
  {
    // Operators' issuer scope, and the issuer of an audit entry about an issuer's resource.
    // Operators made before it served the one deployment whole, so they keep every issuer ('*');
    // new ones are given their scope explicitly. Rows hanging off a notification (deliveries,
    // alerts, assessments, case attempts) take its issuer through it and store no copy.
    version: 9,
    name: 'issuers: operator scope, audit entries per issuer',
    sql: `
      ALTER TABLE operators ADD COLUMN issuers text NOT NULL DEFAULT '*';
      ALTER TABLE audit_log ADD COLUMN issuer text;
      CREATE INDEX audit_log_issuer ON audit_log (issuer, seq);
    `,
  },
  {
    // Single sign-on: an operator made by the identity provider is found again by its subject
    // (OpenID Connect Core §2: iss and sub identify a user), and signs in only through it. A sign-in
    // under way keeps its PKCE verifier and nonce here, by the hash of its state, for ten minutes.
    version: 10,
    name: 'single sign-on: operators from the identity provider, sign-ins under way',
    sql: `
      ALTER TABLE operators ADD COLUMN source text NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc'));
      ALTER TABLE operators ADD COLUMN subject text;
      CREATE UNIQUE INDEX operators_subject ON operators (subject) WHERE subject IS NOT NULL;
      CREATE TABLE oidc_logins (
        state_hash    text PRIMARY KEY,
        code_verifier text NOT NULL,
        nonce         text NOT NULL,
        created_at    bigint NOT NULL
      );
    `,
  },
  {
    // API tokens with a name, an expiry, a last use and a revocation (PCI DSS 8.3.9, 8.6): an
    // operator may hold several. Each operator's token from before moves in as "initial",
    // without an expiry, so scripts keep working until an admin revokes it.
    version: 11,
    name: 'api tokens: named, expiring, revocable',
    sql: `
      CREATE TABLE api_tokens (
        id           text PRIMARY KEY,
        operator_id  text NOT NULL REFERENCES operators (id),
        name         text NOT NULL,
        token_hash   text NOT NULL UNIQUE,
        created_at   bigint NOT NULL,
        expires_at   bigint,
        last_used_at bigint,
        revoked_at   bigint
      );
      CREATE INDEX api_tokens_operator ON api_tokens (operator_id, created_at);
      INSERT INTO api_tokens (id, operator_id, name, token_hash, created_at)
        SELECT id, id, 'initial', token_hash, created_at FROM operators WHERE source = 'local';
    `,
  },
  {
    // A second factor for local accounts (TOTP, RFC 6238): the secret encrypted under
    // admin.totpKey with the operator's id bound to it, the last time step used (a code is good
    // once), recovery codes by hash, and sign-ins between password and code.
    version: 12,
    name: 'local accounts: TOTP, recovery codes, sign-ins awaiting a code',
    sql: `
      ALTER TABLE operators ADD COLUMN totp_secret bytea;
      ALTER TABLE operators ADD COLUMN totp_enrolled_at bigint;
      ALTER TABLE operators ADD COLUMN totp_last_step bigint;
      CREATE TABLE operator_recovery_codes (
        operator_id text NOT NULL REFERENCES operators (id),
        code_hash   text NOT NULL,
        used_at     bigint,
        PRIMARY KEY (operator_id, code_hash)
      );
      CREATE TABLE mfa_challenges (
        id_hash        text PRIMARY KEY,
        operator_id    text NOT NULL REFERENCES operators (id),
        pending_secret bytea,
        created_at     bigint NOT NULL
      );
    `,
  },
];
