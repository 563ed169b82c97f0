import type { AlertStatus } from '../domain/alert-statuses.js';
import type { RiskLevel } from '../domain/risk-codes.js';
import type {
  AlertRow,
  AssessmentRecord,
  AssessmentSubject,
  StoredAssessment,
} from './risk-store.js';

/** Columns of notifications the assessment reads. */
export const SUBJECT_COLUMNS =
  'id, dedup_key, received_at, event_type, status, first_name, last_name, contact_email, phone_number, ' +
  'pan_fingerprint, pan_bin, pan_last4, pan_luhn_valid, data_key_id, pan_ciphertext';

export function toSubject(r: Record<string, unknown>): AssessmentSubject {
  const str = (v: unknown) => (v == null ? null : String(v));
  return {
    id: String(r.id),
    dedupKey: String(r.dedup_key),
    receivedAt: Number(r.received_at),
    eventType: String(r.event_type),
    status: r.status as AssessmentSubject['status'],
    firstName: str(r.first_name),
    lastName: str(r.last_name),
    contactEmail: str(r.contact_email),
    phoneNumber: str(r.phone_number),
    panFingerprint: str(r.pan_fingerprint),
    panBin: str(r.pan_bin),
    panLast4: str(r.pan_last4),
    panLuhnValid: r.pan_luhn_valid == null ? null : Boolean(r.pan_luhn_valid),
    dataKeyId: str(r.data_key_id),
    panCiphertext: r.pan_ciphertext == null ? null : Buffer.from(r.pan_ciphertext as Uint8Array),
  };
}

export const ASSESSMENT_COLUMNS = [
  'notification_id',
  'received_at',
  'assessed_at',
  'card_fingerprint',
  'email_hash',
  'phone_hash',
  'email_on_file',
  'phone_on_file',
  'score',
  'level',
  'reasons',
  'shadow',
  'directory',
  'inputs',
] as const;

export function assessmentValues(a: AssessmentRecord, bool: (b: boolean) => unknown): unknown[] {
  const b = (v: boolean | null) => (v === null ? null : bool(v));
  return [
    a.notificationId,
    a.receivedAt,
    a.assessedAt,
    a.cardFingerprint,
    a.emailHash,
    a.phoneHash,
    b(a.emailOnFile),
    b(a.phoneOnFile),
    a.score,
    a.level,
    JSON.stringify(a.reasons),
    JSON.stringify(a.shadow),
    a.directory,
    JSON.stringify(a.inputs),
  ];
}

export function toStoredAssessment(r: Record<string, unknown>): StoredAssessment {
  return {
    score: Number(r.score),
    level: r.level as RiskLevel,
    reasons: JSON.parse(String(r.reasons)) as StoredAssessment['reasons'],
    shadow: JSON.parse(String(r.shadow)) as StoredAssessment['shadow'],
    assessedAt: Number(r.assessed_at),
  };
}

export function toAlertRow(r: Record<string, unknown>): AlertRow {
  return {
    id: String(r.id),
    notificationId: String(r.notification_id),
    status: r.status as AlertStatus,
    level: r.level as RiskLevel,
    attempts: Number(r.attempts),
    lastError: r.last_error == null ? null : String(r.last_error),
    createdAt: Number(r.created_at),
    sentAt: r.sent_at == null ? null : Number(r.sent_at),
  };
}
