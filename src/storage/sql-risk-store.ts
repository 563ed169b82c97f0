import type { AlertStatus } from '../domain/alert-statuses.js';
import { uuidV7 } from '../util/uuid-v7.js';
import { caseOnAssessment } from './case-scripts.js';
import { ALERT_LEASED_BY_OUTBOX, enqueueAlert, releaseAfterAssessment } from './outbox-claim.js';
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
import type { SqlDriver } from './sql-driver.js';
import { all, outboxQueued, run, type SqlScript } from './sql-script.js';

const INSERT_ASSESSMENT = `INSERT INTO risk_assessments (${ASSESSMENT_COLUMNS.join(', ')})
  VALUES (${ASSESSMENT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (notification_id) DO NOTHING`;
// Claims the card's alert window only if its last alert is older than the cutoff: one statement,
// so two assessments of one card cannot both take it (PostgreSQL serialises them on the row).
const CLAIM_WINDOW = `INSERT INTO risk_alert_cards (card_fingerprint, last_alert_at) VALUES (?, ?)
  ON CONFLICT (card_fingerprint) DO UPDATE SET last_alert_at = excluded.last_alert_at
  WHERE risk_alert_cards.last_alert_at <= ? RETURNING card_fingerprint`;
// The notification's deliveries were waiting for this (outbox-claim.ts).
const RELEASE_DELIVERIES = releaseAfterAssessment(() => '?');
const INSERT_ALERT = `INSERT INTO risk_alerts (id, notification_id, card_fingerprint, created_at, received_at, status, level,
  language, pan_last4, data_key_id, recipient_ciphertext, next_attempt_at, lease_until)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${ALERT_LEASED_BY_OUTBOX})`;
const ENQUEUE_ALERT = enqueueAlert(() => '?');
/** Ids per `IN (…)` of a read by ids: well under either dialect's parameter limit. */
const IDS_PER_READ = 500;

/**
 * Risk assessments, written once over the notification store's {@link SqlDriver}. An
 * assessment's writes are one transaction script: on SQLite in the group commit, without an
 * fsync of its own (decision 0014: the sweep redoes a lost one), so the batch's assessments share
 * one commit and never block the event loop on another process's write lock; on PostgreSQL on
 * one client of the pool.
 */
export class SqlRiskStore implements RiskStore {
  /**
   * Assessments run at once: SQLite's reads are synchronous and a batch's writes share one group
   * commit (16); on PostgreSQL, where an assessment is a dozen round trips, one per 2.5 pool
   * connections (4 with the default pool of 10): an assessment holds one connection most of the
   * time (up to five for a moment), and the Visa route's short commits queue behind them at worst.
   * The soak of two instances at 200/s measured 37-40 assessments/s with one at a time, 51-58
   * with four (`npm run soak -- --short --only pg-two-instances`).
   */
  readonly assessmentBatch: number;

  constructor(
    private readonly sql: SqlDriver,
    options: { poolSize?: number | undefined } = {},
  ) {
    this.assessmentBatch =
      sql.dialect === 'sqlite' ? 16 : Math.max(1, Math.floor((options.poolSize ?? 10) / 2.5));
  }

  async loadSubject(id: string): Promise<AssessmentSubject | undefined> {
    const [r] = await this.sql.all(`SELECT ${SUBJECT_COLUMNS} FROM notifications WHERE id = ?`, [
      id,
    ]);
    return r === undefined ? undefined : toSubject(r);
  }

  async isAssessed(id: string): Promise<boolean> {
    const rows = await this.sql.all('SELECT 1 FROM risk_assessments WHERE notification_id = ?', [
      id,
    ]);
    return rows.length > 0;
  }

  async countAttempts(
    fingerprint: string,
    eventType: string,
    since: number,
    until: number,
  ): Promise<number> {
    const [r] = await this.sql.all(
      `SELECT COUNT(*) AS n FROM notifications WHERE pan_fingerprint = ? AND received_at > ? AND received_at <= ?
         AND status = 'accepted' AND event_type = ?`,
      [fingerprint, since, until, eventType],
    );
    return Number(r!.n);
  }

  async enrollerKeys(fingerprint: string, since: number, until: number, excludeId: string) {
    const rows = await this.sql.all<{ email_hash: string | null; phone_hash: string | null }>(
      `SELECT email_hash, phone_hash FROM risk_assessments WHERE card_fingerprint = ? AND received_at > ? AND received_at <= ?
         AND notification_id <> ? LIMIT 1000`,
      [fingerprint, since, until, excludeId],
    );
    return rows.map((r) => ({ emailHash: r.email_hash ?? null, phoneHash: r.phone_hash ?? null }));
  }

  async otherCardsSharing(
    kind: 'email' | 'phone',
    hash: string,
    since: number,
    until: number,
    excludeFingerprint: string | null,
  ): Promise<number> {
    const col = kind === 'email' ? 'email' : 'phone';
    const [r] = await this.sql.all(
      `SELECT COUNT(DISTINCT card_fingerprint) AS n FROM risk_assessments WHERE ${col}_hash = ? AND received_at > ? AND received_at <= ?
         AND card_fingerprint IS NOT NULL AND card_fingerprint <> ? AND ${col}_on_file IS NOT TRUE`,
      [hash, since, until, excludeFingerprint ?? ''],
    );
    return Number(r!.n);
  }

  saveAssessment(
    rec: AssessmentRecord,
    alert?: AlertDraft,
    caseDraft?: CaseDraft,
  ): Promise<SaveResult> {
    return this.sql.transaction(
      function* (): SqlScript<SaveResult> {
        const inserted = (yield* run(INSERT_ASSESSMENT, assessmentValues(rec, Boolean))) === 1;
        if (!inserted) return { saved: false, alert: 'none' };
        // Its events are due now: wake the workers of other processes (PostgreSQL's NOTIFY).
        if (
          (yield* run(RELEASE_DELIVERIES, [rec.assessedAt, rec.notificationId, rec.assessedAt])) > 0
        )
          yield* outboxQueued();
        const joined =
          caseDraft === undefined ? {} : { caseId: yield* caseOnAssessment(rec, caseDraft) };
        if (alert === undefined) return { saved: true, alert: 'none', ...joined };
        let status: AlertStatus = 'no_contact';
        if (alert.recipient !== null) {
          status = 'pending';
          if (alert.cardFingerprint !== null) {
            const took = yield* all(CLAIM_WINDOW, [
              alert.cardFingerprint,
              alert.receivedAt,
              alert.receivedAt - alert.windowMs,
            ]);
            if (took.length === 0) status = 'suppressed';
          }
        }
        const keep = status === 'pending' ? alert.recipient : null;
        yield* run(INSERT_ALERT, [
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
        ]);
        // Sent through the one outbox, with the events (outbox-claim.ts).
        if (status === 'pending') {
          const t = alert.createdAt;
          yield* run(ENQUEUE_ALERT, [uuidV7(t), alert.notificationId, t, t, t, alert.id]);
          yield* outboxQueued();
        }
        return { saved: true, alert: status, ...joined };
      },
      { durable: false },
    );
  }

  async assessments(ids: readonly string[]): Promise<Map<string, StoredAssessment>> {
    const out = new Map<string, StoredAssessment>();
    for (let i = 0; i < ids.length; i += IDS_PER_READ) {
      const chunk = ids.slice(i, i + IDS_PER_READ);
      const rows = await this.sql.all(
        `SELECT notification_id, score, level, reasons, shadow, assessed_at FROM risk_assessments
          WHERE notification_id IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const r of rows) out.set(String(r.notification_id), toStoredAssessment(r));
    }
    return out;
  }

  async unassessed(since: number, before: number, limit: number): Promise<string[]> {
    const rows = await this.sql.all<{ id: string }>(
      `SELECT n.id FROM notifications n WHERE n.status = 'accepted' AND n.received_at >= ? AND n.received_at < ?
         AND NOT EXISTS (SELECT 1 FROM risk_assessments r WHERE r.notification_id = n.id)
         ORDER BY n.received_at, n.id LIMIT ?`,
      [since, before, limit],
    );
    return rows.map((r) => String(r.id));
  }
}
