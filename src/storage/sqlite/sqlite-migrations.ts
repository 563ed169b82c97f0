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
  {
    // The outbox: one row per (accepted notification, sink), written in the
    // notification's own transaction; replays add rows. 'failed' = awaiting a retry.
    // Versions 3 and 4 are reserved for the risk and console changes.
    version: 2,
    name: 'deliveries',
    sql: `
      CREATE TABLE deliveries (
        id              TEXT PRIMARY KEY,
        notification_id TEXT NOT NULL REFERENCES notifications (id),
        sink            TEXT NOT NULL,
        origin          TEXT NOT NULL CHECK (origin IN ('accepted', 'replay')),
        status          TEXT NOT NULL CHECK (status IN ('pending', 'failed', 'delivered', 'dead')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        lease_until     INTEGER,
        lease_owner     TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        delivered_at    INTEGER,
        last_error      TEXT,
        last_status     INTEGER
      ) STRICT;
      CREATE INDEX deliveries_due ON deliveries (sink, next_attempt_at) WHERE status IN ('pending', 'failed');
      CREATE INDEX deliveries_created ON deliveries (created_at DESC, id DESC);
      CREATE INDEX deliveries_notification ON deliveries (notification_id);
      CREATE TABLE sink_states (
        name            TEXT PRIMARY KEY,
        disabled_at     INTEGER,
        disabled_reason TEXT,
        updated_at      INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'cardholders, risk assessments, cardholder alerts',
    sql: `
      CREATE TABLE cardholders (
        fingerprint        TEXT PRIMARY KEY,
        status             TEXT NOT NULL CHECK (status IN ('active', 'blocked', 'closed')),
        language           TEXT,
        data_key_id        TEXT NOT NULL,
        contact_ciphertext BLOB NOT NULL,
        created_at         INTEGER NOT NULL,
        updated_at         INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE risk_assessments (
        notification_id  TEXT PRIMARY KEY REFERENCES notifications (id),
        received_at      INTEGER NOT NULL,
        assessed_at      INTEGER NOT NULL,
        card_fingerprint TEXT,
        email_hash       TEXT,
        phone_hash       TEXT,
        email_on_file    INTEGER,
        phone_on_file    INTEGER,
        score            INTEGER NOT NULL,
        level            TEXT NOT NULL CHECK (level IN ('low', 'medium', 'high')),
        reasons          TEXT NOT NULL,
        shadow           TEXT NOT NULL,
        directory        TEXT NOT NULL
      ) STRICT;
      CREATE INDEX risk_assessments_card ON risk_assessments (card_fingerprint, received_at);
      CREATE INDEX risk_assessments_email ON risk_assessments (email_hash, received_at);
      CREATE INDEX risk_assessments_phone ON risk_assessments (phone_hash, received_at);
      CREATE INDEX risk_assessments_level ON risk_assessments (level, received_at);
      CREATE TABLE risk_alerts (
        id                   TEXT PRIMARY KEY,
        notification_id      TEXT NOT NULL UNIQUE REFERENCES notifications (id),
        card_fingerprint     TEXT,
        created_at           INTEGER NOT NULL,
        received_at          INTEGER NOT NULL,
        status               TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'suppressed', 'no_contact', 'dead')),
        level                TEXT NOT NULL,
        language             TEXT,
        pan_last4            TEXT,
        data_key_id          TEXT,
        recipient_ciphertext BLOB,
        attempts             INTEGER NOT NULL DEFAULT 0,
        next_attempt_at      INTEGER NOT NULL,
        lease_until          INTEGER,
        last_error           TEXT,
        sent_at              INTEGER
      ) STRICT;
      CREATE INDEX risk_alerts_due ON risk_alerts (status, next_attempt_at);
      CREATE TABLE risk_alert_cards (
        card_fingerprint TEXT PRIMARY KEY,
        last_alert_at    INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    // Operators of the admin console. Only hashes of passwords, API tokens and session
    // tokens are kept. The audit log is append-only: triggers refuse UPDATE and DELETE.
    version: 4,
    name: 'operators, sessions, audit log',
    sql: `
      CREATE TABLE operators (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        role          TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
        password_hash TEXT NOT NULL,
        token_hash    TEXT NOT NULL UNIQUE,
        created_at    INTEGER NOT NULL,
        disabled_at   INTEGER,
        last_login_at INTEGER
      ) STRICT;
      CREATE TABLE operator_sessions (
        id_hash      TEXT PRIMARY KEY,
        operator_id  TEXT NOT NULL REFERENCES operators (id),
        csrf_token   TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        address      TEXT
      ) STRICT;
      CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
      CREATE TABLE audit_log (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        at         INTEGER NOT NULL,
        actor      TEXT NOT NULL,
        actor_role TEXT,
        action     TEXT NOT NULL,
        target     TEXT,
        outcome    TEXT NOT NULL,
        address    TEXT,
        detail     TEXT
      ) STRICT;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  {
    // Version 5 is this change's number by agreement (2–4: outbox, risk, console).
    version: 5,
    name: 'retention',
    sql: `
      ALTER TABLE notifications ADD COLUMN purged_at INTEGER;
      CREATE INDEX notifications_unpurged ON notifications (received_at) WHERE purged_at IS NULL;
    `,
  },
  {
    // Fraud cases and the cardholder's answer. The operators table is rebuilt for the `channel`
    // role: SQLite cannot change a CHECK constraint in place. Its sessions are set aside and
    // put back so that nobody is signed out (foreign keys are enforced by better-sqlite3).
    version: 6,
    name: 'cases, cardholder answers, assessment inputs, channel role',
    sql: `
      CREATE TEMP TABLE operator_sessions_kept AS SELECT * FROM operator_sessions;
      DELETE FROM operator_sessions;
      CREATE TABLE operators_v6 (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        role          TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin', 'channel')),
        password_hash TEXT NOT NULL,
        token_hash    TEXT NOT NULL UNIQUE,
        created_at    INTEGER NOT NULL,
        disabled_at   INTEGER,
        last_login_at INTEGER
      ) STRICT;
      INSERT INTO operators_v6 (id, name, role, password_hash, token_hash, created_at, disabled_at, last_login_at)
        SELECT id, name, role, password_hash, token_hash, created_at, disabled_at, last_login_at FROM operators;
      DROP TABLE operators;
      ALTER TABLE operators_v6 RENAME TO operators;
      INSERT INTO operator_sessions SELECT * FROM operator_sessions_kept;
      DROP TABLE operator_sessions_kept;

      ALTER TABLE risk_assessments ADD COLUMN inputs TEXT;
      ALTER TABLE risk_alerts ADD COLUMN answer TEXT CHECK (answer IN ('recognised', 'not_recognised'));
      ALTER TABLE risk_alerts ADD COLUMN answered_at INTEGER;
      ALTER TABLE risk_alerts ADD COLUMN answered_by TEXT;
      ALTER TABLE deliveries ADD COLUMN event TEXT NOT NULL DEFAULT 'enrollment'
        CHECK (event IN ('enrollment', 'cardholder_answer'));
      ALTER TABLE deliveries ADD COLUMN alert_id TEXT REFERENCES risk_alerts (id);

      CREATE TABLE cases (
        id               TEXT PRIMARY KEY,
        card_fingerprint TEXT,
        pan_last4        TEXT,
        status           TEXT NOT NULL CHECK (status IN ('open', 'in_review', 'closed')),
        level            TEXT NOT NULL CHECK (level IN ('low', 'medium', 'high')),
        opened_by        TEXT NOT NULL CHECK (opened_by IN ('assessment', 'cardholder_answer')),
        opened_at        INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        assignee         TEXT,
        escalated_at     INTEGER,
        closed_at        INTEGER,
        closed_by        TEXT,
        disposition      TEXT CHECK (disposition IN ('confirmed_fraud', 'legitimate', 'inconclusive')),
        CHECK ((status = 'closed') = (disposition IS NOT NULL))
      ) STRICT;
      CREATE UNIQUE INDEX cases_one_open_per_card ON cases (card_fingerprint) WHERE status <> 'closed';
      CREATE INDEX cases_queue ON cases (status, opened_at);
      CREATE TABLE case_attempts (
        notification_id TEXT PRIMARY KEY REFERENCES notifications (id),
        case_id         TEXT NOT NULL REFERENCES cases (id),
        added_at        INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX case_attempts_case ON case_attempts (case_id);
      CREATE TABLE case_notes (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id TEXT NOT NULL REFERENCES cases (id),
        at      INTEGER NOT NULL,
        author  TEXT NOT NULL,
        kind    TEXT NOT NULL CHECK (kind IN ('opened', 'attempt', 'assigned', 'note', 'answer', 'reopened', 'closed')),
        text    TEXT,
        detail  TEXT
      ) STRICT;
      CREATE INDEX case_notes_case ON case_notes (case_id, seq);
      CREATE TRIGGER case_notes_no_update BEFORE UPDATE ON case_notes BEGIN SELECT RAISE(ABORT, 'case_notes is append-only'); END;
      CREATE TRIGGER case_notes_no_delete BEFORE DELETE ON case_notes BEGIN SELECT RAISE(ABORT, 'case_notes is append-only'); END;
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
      ALTER TABLE deliveries ADD COLUMN kind TEXT NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'alert'));
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
      ALTER TABLE notifications ADD COLUMN issuer TEXT NOT NULL DEFAULT 'default';
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
      ALTER TABLE operators ADD COLUMN issuers TEXT NOT NULL DEFAULT '*';
      ALTER TABLE audit_log ADD COLUMN issuer TEXT;
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
      ALTER TABLE operators ADD COLUMN source TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'oidc'));
      ALTER TABLE operators ADD COLUMN subject TEXT;
      CREATE UNIQUE INDEX operators_subject ON operators (subject) WHERE subject IS NOT NULL;
      CREATE TABLE oidc_logins (
        state_hash    TEXT PRIMARY KEY,
        code_verifier TEXT NOT NULL,
        nonce         TEXT NOT NULL,
        created_at    INTEGER NOT NULL
      ) STRICT;
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
        id           TEXT PRIMARY KEY,
        operator_id  TEXT NOT NULL REFERENCES operators (id),
        name         TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER,
        last_used_at INTEGER,
        revoked_at   INTEGER
      ) STRICT;
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
      ALTER TABLE operators ADD COLUMN totp_secret BLOB;
      ALTER TABLE operators ADD COLUMN totp_enrolled_at INTEGER;
      ALTER TABLE operators ADD COLUMN totp_last_step INTEGER;
      CREATE TABLE operator_recovery_codes (
        operator_id TEXT NOT NULL REFERENCES operators (id),
        code_hash   TEXT NOT NULL,
        used_at     INTEGER,
        PRIMARY KEY (operator_id, code_hash)
      ) STRICT;
      CREATE TABLE mfa_challenges (
        id_hash        TEXT PRIMARY KEY,
        operator_id    TEXT NOT NULL REFERENCES operators (id),
        pending_secret BLOB,
        created_at     INTEGER NOT NULL
      ) STRICT;
    `,
  },
];
