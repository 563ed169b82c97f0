import type Database from 'better-sqlite3';
import type { AlertStatus } from '../domain/alert-statuses.js';
import { StorageError } from '../errors.js';
import { caseOnAssessment } from './case-scripts.js';
import { releaseAfterAssessment } from './outbox-claim.js';
import {
  ASSESSMENT_COLUMNS,
  assessmentValues,
  SUBJECT_COLUMNS,
  toStoredAssessment,
  toSubject,
} from './risk-row-mapping.js';
import type {
  AlertDraft,
  AssessmentRecord,
  AssessmentSubject,
  CaseDraft,
  RiskStore,
  SaveResult,
  StoredAssessment,
} from './risk-store.js';
import { runSqliteScript } from './sqlite-sql-driver.js';

const INSERT_ASSESSMENT = `INSERT INTO risk_assessments (${ASSESSMENT_COLUMNS.join(', ')})
  VALUES (${ASSESSMENT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (notification_id) DO NOTHING`;
// Claims the card's alert window only if its last alert is older than the cutoff: one statement,
// so two assessments of one card cannot both take it.
const CLAIM_WINDOW = `INSERT INTO risk_alert_cards (card_fingerprint, last_alert_at) VALUES (?, ?)
  ON CONFLICT (card_fingerprint) DO UPDATE SET last_alert_at = excluded.last_alert_at
  WHERE risk_alert_cards.last_alert_at <= ? RETURNING card_fingerprint`;
// The notification's deliveries were waiting for this (outbox-claim.ts).
const RELEASE_DELIVERIES = releaseAfterAssessment(() => '?');
const INSERT_ALERT = `INSERT INTO risk_alerts (id, notification_id, card_fingerprint, created_at, received_at, status, level,
  language, pan_last4, data_key_id, recipient_ciphertext, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Runs `run` inside a write transaction and resolves after its commit. */
export type SqliteWrite = <T>(run: () => T) => Promise<T>;

/**
 * Risk assessments on the notification store's SQLite connection. Statements are prepared once
 * and kept: an assessment runs about eight, and preparing each anew cost more than running it.
 * Writes go through `write`: `SqliteStore.openRiskStores` gives the notification store's group
 * commit, as a non-durable write (SqliteStore.write), so an assessment shares its transaction with
 * the notifications of the same turn, never blocks the event loop waiting for another process's
 * write lock, and has no fsync of its own. Without `write`, each is its own transaction.
 */
export class SqliteRiskStore implements RiskStore {
  /** Reads are synchronous and the batch's writes share one group commit. */
  readonly assessmentBatch = 16;
  readonly #db: Database.Database;
  readonly #write: SqliteWrite;
  readonly #stmts = new Map<string, Database.Statement>();

  constructor(db: Database.Database, write?: SqliteWrite) {
    this.#db = db;
    this.#write = write ?? (async (run) => this.#db.transaction(run).immediate());
  }

  #stmt(sql: string): Database.Statement {
    let st = this.#stmts.get(sql);
    if (st === undefined) {
      st = this.#db.prepare(sql);
      this.#stmts.set(sql, st);
    }
    return st;
  }

  async loadSubject(id: string): Promise<AssessmentSubject | undefined> {
    const r = this.#read(() =>
      this.#stmt(`SELECT ${SUBJECT_COLUMNS} FROM notifications WHERE id = ?`).get(id),
    ) as Record<string, unknown> | undefined;
    return r === undefined ? undefined : toSubject(r);
  }

  async isAssessed(id: string): Promise<boolean> {
    return (
      this.#read(() =>
        this.#stmt('SELECT 1 FROM risk_assessments WHERE notification_id = ?').get(id),
      ) !== undefined
    );
  }

  async countAttempts(
    fingerprint: string,
    eventType: string,
    since: number,
    until: number,
  ): Promise<number> {
    const r = this.#read(() =>
      this.#stmt(
        `SELECT COUNT(*) AS n FROM notifications WHERE pan_fingerprint = ? AND received_at > ? AND received_at <= ?
           AND status = 'accepted' AND event_type = ?`,
      ).get(fingerprint, since, until, eventType),
    ) as { n: number };
    return Number(r.n);
  }

  async enrollerKeys(fingerprint: string, since: number, until: number, excludeId: string) {
    const rows = this.#read(() =>
      this.#stmt(
        `SELECT email_hash, phone_hash FROM risk_assessments WHERE card_fingerprint = ? AND received_at > ? AND received_at <= ?
           AND notification_id <> ? LIMIT 1000`,
      ).all(fingerprint, since, until, excludeId),
    ) as { email_hash: string | null; phone_hash: string | null }[];
    return rows.map((r) => ({ emailHash: r.email_hash, phoneHash: r.phone_hash }));
  }

  async otherCardsSharing(
    kind: 'email' | 'phone',
    hash: string,
    since: number,
    until: number,
    excludeFingerprint: string | null,
  ): Promise<number> {
    const col = kind === 'email' ? 'email' : 'phone';
    const r = this.#read(() =>
      this.#stmt(
        `SELECT COUNT(DISTINCT card_fingerprint) AS n FROM risk_assessments WHERE ${col}_hash = ? AND received_at > ? AND received_at <= ?
           AND card_fingerprint IS NOT NULL AND card_fingerprint <> ? AND (${col}_on_file IS NULL OR ${col}_on_file = 0)`,
      ).get(hash, since, until, excludeFingerprint ?? ''),
    ) as { n: number };
    return Number(r.n);
  }

  async saveAssessment(
    rec: AssessmentRecord,
    alert?: AlertDraft,
    caseDraft?: CaseDraft,
  ): Promise<SaveResult> {
    try {
      return await this.#write(() => {
        const inserted =
          this.#stmt(INSERT_ASSESSMENT).run(...assessmentValues(rec, Number)).changes === 1;
        if (!inserted) return { saved: false, alert: 'none' as const };
        this.#stmt(RELEASE_DELIVERIES).run(rec.assessedAt, rec.notificationId, rec.assessedAt);
        const joined =
          caseDraft === undefined
            ? {}
            : {
                caseId: runSqliteScript(this.#db, caseOnAssessment(rec, caseDraft)),
              };
        if (alert === undefined) return { saved: true, alert: 'none' as const, ...joined };
        let status: AlertStatus = 'no_contact';
        if (alert.recipient !== null) {
          status = 'pending';
          if (alert.cardFingerprint !== null) {
            const took = this.#stmt(CLAIM_WINDOW).get(
              alert.cardFingerprint,
              alert.receivedAt,
              alert.receivedAt - alert.windowMs,
            );
            if (took === undefined) status = 'suppressed';
          }
        }
        const keep = status === 'pending' ? alert.recipient : null;
        this.#stmt(INSERT_ALERT).run(
          alert.id,
          alert.notificationId,
          alert.cardFingerprint,
          alert.createdAt,
          alert.receivedAt,
          status,
          alert.level,
          alert.language,
          alert.panLast4,
          keep?.dataKeyId ?? null,
          keep?.ciphertext ?? null,
          alert.createdAt,
        );
        return { saved: true, alert: status, ...joined };
      });
    } catch (cause) {
      throw new StorageError('SQLite risk write failed', { cause });
    }
  }

  async assessments(ids: readonly string[]): Promise<Map<string, StoredAssessment>> {
    const out = new Map<string, StoredAssessment>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.#read(() =>
        this.#db
          .prepare(
            `SELECT notification_id, score, level, reasons, shadow, assessed_at FROM risk_assessments WHERE notification_id IN (${chunk.map(() => '?').join(', ')})`,
          )
          .all(...chunk),
      ) as Record<string, unknown>[];
      for (const r of rows) out.set(String(r.notification_id), toStoredAssessment(r));
    }
    return out;
  }

  async unassessed(since: number, before: number, limit: number): Promise<string[]> {
    const rows = this.#read(() =>
      this.#db
        .prepare(
          `SELECT n.id FROM notifications n WHERE n.status = 'accepted' AND n.received_at >= ? AND n.received_at < ?
           AND NOT EXISTS (SELECT 1 FROM risk_assessments r WHERE r.notification_id = n.id)
           ORDER BY n.received_at, n.id LIMIT ?`,
        )
        .all(since, before, limit),
    ) as { id: string }[];
    return rows.map((r) => r.id);
  }

  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw new StorageError('SQLite risk read failed', { cause });
    }
  }
}
