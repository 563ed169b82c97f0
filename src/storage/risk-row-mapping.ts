import type { AlertStatus } from '../domain/alert-statuses.js';
import type { RiskLevel } from '../domain/risk-codes.js';
import type {
  AlertRow,
  AssessmentRecord,
  AssessmentSubject,
  StoredAssessment,
} from './risk-store.js';
import { ENROLLER_WITH_PAN_COLUMNS, num, str, toEnrollerWithPan } from './row-mapping.js';

/** Columns of notifications the assessment reads. */
export const SUBJECT_COLUMNS = [
  'id, dedup_key, received_at, event_type, status',
  ...ENROLLER_WITH_PAN_COLUMNS,
].join(', ');

export function toSubject(r: Record<string, unknown>): AssessmentSubject {
  return {
    id: String(r.id),
    dedupKey: String(r.dedup_key),
    receivedAt: Number(r.received_at),
    eventType: String(r.event_type),
    status: r.status as AssessmentSubject['status'],
    ...toEnrollerWithPan(r),
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
    lastError: str(r.last_error),
    createdAt: Number(r.created_at),
    sentAt: num(r.sent_at),
  };
}
