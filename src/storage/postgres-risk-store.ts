import type pg from 'pg';
import type { AlertStatus } from '../domain/alert-statuses.js';
import { StorageError } from '../errors.js';
import { caseOnAssessment } from './case-scripts.js';
import { releaseAfterAssessment } from './outbox-claim.js';
import { runPostgresScript } from './postgres-sql-driver.js';
import { inTransaction } from './postgres-transaction.js';
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

const INSERT_ASSESSMENT = `INSERT INTO risk_assessments (${ASSESSMENT_COLUMNS.join(', ')})
  VALUES (${ASSESSMENT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (notification_id) DO NOTHING`;
// One statement: concurrent assessments of one card serialise on the row, only one takes the
// window.
const CLAIM_WINDOW = `INSERT INTO risk_alert_cards (card_fingerprint, last_alert_at) VALUES ($1, $2)
  ON CONFLICT (card_fingerprint) DO UPDATE SET last_alert_at = excluded.last_alert_at
  WHERE risk_alert_cards.last_alert_at <= $3 RETURNING card_fingerprint`;
// The notification's deliveries were waiting for this (outbox-claim.ts).
const RELEASE_DELIVERIES = releaseAfterAssessment((i) => `$${i}`);
const INSERT_ALERT = `INSERT INTO risk_alerts (id, notification_id, card_fingerprint, created_at, received_at, status, level,
  language, pan_last4, data_key_id, recipient_ciphertext, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`;

/** Risk assessments on the notification store's PostgreSQL pool. */
export class PostgresRiskStore implements RiskStore {
  /**
   * One per ten pool connections (at least one): an assessment holds up to five at once, and the
   * Visa route must find the rest free.
   */
  readonly assessmentBatch: number;
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
    this.assessmentBatch = Math.max(1, Math.floor((pool.options.max ?? 10) / 10));
  }

  async loadSubject(id: string): Promise<AssessmentSubject | undefined> {
    const [r] = await this.#query(`SELECT ${SUBJECT_COLUMNS} FROM notifications WHERE id = $1`, [
      id,
    ]);
    return r === undefined ? undefined : toSubject(r);
  }

  async isAssessed(id: string): Promise<boolean> {
    return (
      (await this.#query('SELECT 1 FROM risk_assessments WHERE notification_id = $1', [id]))
        .length > 0
    );
  }

  async countAttempts(
    fingerprint: string,
    eventType: string,
    since: number,
    until: number,
  ): Promise<number> {
    const [r] = await this.#query(
      `SELECT COUNT(*) AS n FROM notifications WHERE pan_fingerprint = $1 AND received_at > $2 AND received_at <= $3
       AND status = 'accepted' AND event_type = $4`,
      [fingerprint, since, until, eventType],
    );
    return Number(r!.n);
  }

  async enrollerKeys(fingerprint: string, since: number, until: number, excludeId: string) {
    const rows = await this.#query(
      `SELECT email_hash, phone_hash FROM risk_assessments WHERE card_fingerprint = $1 AND received_at > $2 AND received_at <= $3
       AND notification_id <> $4 LIMIT 1000`,
      [fingerprint, since, until, excludeId],
    );
    return rows.map((r) => ({
      emailHash: (r.email_hash as string | null) ?? null,
      phoneHash: (r.phone_hash as string | null) ?? null,
    }));
  }

  async otherCardsSharing(
    kind: 'email' | 'phone',
    hash: string,
    since: number,
    until: number,
    excludeFingerprint: string | null,
  ): Promise<number> {
    const col = kind === 'email' ? 'email' : 'phone';
    const [r] = await this.#query(
      `SELECT COUNT(DISTINCT card_fingerprint) AS n FROM risk_assessments WHERE ${col}_hash = $1 AND received_at > $2 AND received_at <= $3
       AND card_fingerprint IS NOT NULL AND card_fingerprint <> $4 AND ${col}_on_file IS NOT TRUE`,
      [hash, since, until, excludeFingerprint ?? ''],
    );
    return Number(r!.n);
  }

  async saveAssessment(
    rec: AssessmentRecord,
    alert?: AlertDraft,
    caseDraft?: CaseDraft,
  ): Promise<SaveResult> {
    return inTransaction(this.#pool, 'PostgreSQL risk write failed', async (client) => {
      const inserted =
        (await client.query(INSERT_ASSESSMENT, assessmentValues(rec, Boolean))).rowCount === 1;
      if (inserted)
        await client.query(RELEASE_DELIVERIES, [
          rec.assessedAt,
          rec.notificationId,
          rec.assessedAt,
        ]);
      let result: SaveResult = { saved: inserted, alert: 'none' };
      if (inserted && caseDraft !== undefined) {
        result.caseId = await runPostgresScript(client, caseOnAssessment(rec, caseDraft));
      }
      if (inserted && alert !== undefined) {
        let status: AlertStatus = 'no_contact';
        if (alert.recipient !== null) {
          status = 'pending';
          if (alert.cardFingerprint !== null) {
            const took = await client.query(CLAIM_WINDOW, [
              alert.cardFingerprint,
              alert.receivedAt,
              alert.receivedAt - alert.windowMs,
            ]);
            if (took.rowCount === 0) status = 'suppressed';
          }
        }
        const keep = status === 'pending' ? alert.recipient : null;
        await client.query(INSERT_ALERT, [
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
        result = { ...result, saved: true, alert: status };
      }
      return result;
    });
  }

  async assessments(ids: readonly string[]): Promise<Map<string, StoredAssessment>> {
    const out = new Map<string, StoredAssessment>();
    if (ids.length === 0) return out;
    const rows = await this.#query(
      'SELECT notification_id, score, level, reasons, shadow, assessed_at FROM risk_assessments WHERE notification_id = ANY($1::text[])',
      [ids],
    );
    for (const r of rows) out.set(String(r.notification_id), toStoredAssessment(r));
    return out;
  }

  async unassessed(since: number, before: number, limit: number): Promise<string[]> {
    const rows = await this.#query(
      `SELECT n.id FROM notifications n WHERE n.status = 'accepted' AND n.received_at >= $1 AND n.received_at < $2
       AND NOT EXISTS (SELECT 1 FROM risk_assessments r WHERE r.notification_id = n.id)
       ORDER BY n.received_at, n.id LIMIT $3`,
      [since, before, limit],
    );
    return rows.map((r) => String(r.id));
  }

  async #query(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    try {
      return (await this.#pool.query<Record<string, unknown>>(sql, params)).rows;
    } catch (cause) {
      throw new StorageError('PostgreSQL risk query failed', { cause });
    }
  }
}
