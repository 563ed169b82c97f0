import type { RiskLevel, RiskReason, RiskSummary } from '../domain/risk-codes.js';
import type {
  EncryptedPan,
  EnrollerFields,
  NotificationRecord,
  NotificationSummary,
  QuarantinedNotification,
} from './notification-record.js';

/** A nullable column as text (SQL NULL, or a column the row lacks, reads as null). */
export const str = (v: unknown): string | null => (v == null ? null : String(v));
/** A nullable column as a number (SQL NULL, or a column the row lacks, reads as null). */
export const num = (v: unknown): number | null => (v == null ? null : Number(v));

/** The notifications columns {@link toEnroller} reads. */
const ENROLLER_COLUMNS = [
  'first_name',
  'last_name',
  'contact_email',
  'phone_number',
  'pan_fingerprint',
  'pan_bin',
  'pan_last4',
  'pan_luhn_valid',
] as const;

/** The notifications columns {@link toEnrollerWithPan} reads. */
export const ENROLLER_WITH_PAN_COLUMNS = [
  ...ENROLLER_COLUMNS,
  'data_key_id',
  'pan_ciphertext',
] as const;

/**
 * The enroller and card columns of notifications, as every reader of them maps them (the
 * listing, the event's source, the risk assessment's subject).
 */
function toEnroller(r: Record<string, unknown>): EnrollerFields {
  return {
    firstName: str(r.first_name),
    lastName: str(r.last_name),
    contactEmail: str(r.contact_email),
    phoneNumber: str(r.phone_number),
    panFingerprint: str(r.pan_fingerprint),
    panBin: str(r.pan_bin),
    panLast4: str(r.pan_last4),
    panLuhnValid: r.pan_luhn_valid == null ? null : Boolean(r.pan_luhn_valid),
  };
}

/**
 * The enroller with the encrypted card number (bytea and BLOB both arrive as bytes): what the
 * event's source and the risk assessment's subject read.
 */
export function toEnrollerWithPan(r: Record<string, unknown>): EnrollerFields & EncryptedPan {
  return {
    ...toEnroller(r),
    dataKeyId: str(r.data_key_id),
    panCiphertext: r.pan_ciphertext == null ? null : Buffer.from(r.pan_ciphertext as Uint8Array),
  };
}

/**
 * The assessment a query joined to its row as `risk_score`, `risk_level` and `risk_reasons`;
 * null when there is none (not assessed yet, or assessment off): all three are NOT NULL.
 */
export function toRisk(r: Record<string, unknown>): RiskSummary | null {
  return r.risk_level == null
    ? null
    : {
        score: Number(r.risk_score),
        level: r.risk_level as RiskLevel,
        reasons: JSON.parse(String(r.risk_reasons)) as RiskReason[],
      };
}

/** Column order shared by both dialects' INSERT statements. */
export const RECORD_COLUMNS = [
  'id',
  'issuer',
  'dedup_key',
  'received_at',
  'updated_at',
  'token_requestor_id',
  'event_type',
  'status',
  'reason',
  'reason_fields',
  'jws_kid',
  'jwe_kid',
  'tsp',
  ...ENROLLER_WITH_PAN_COLUMNS,
  'payload_ciphertext',
  'encrypted_data',
] as const;

/**
 * Columns a reprocessing result may overwrite (everything but identity and arrival). The
 * envelope is rewritten too: it can only be the same bytes (same dedup key), except on a row
 * whose envelope retention purged, which a Visa retry then restores.
 */
export const UPDATABLE_COLUMNS = RECORD_COLUMNS.filter(
  (c) =>
    c !== 'id' &&
    c !== 'issuer' &&
    c !== 'dedup_key' &&
    c !== 'received_at' &&
    c !== 'token_requestor_id',
);

/**
 * Rows retention may purge: unpurged, and no event still owed to a sink (the event is built
 * from the row at delivery time, so purging first would deliver an empty enroller). An open
 * alert message does not hold the row: it needs only the alert's own row and the masked card,
 * which a purge keeps, and alerts switched off would otherwise keep it forever.
 */
export const PURGEABLE =
  "purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id AND d.kind = 'event' AND d.status IN ('pending', 'failed'))";

/**
 * Retention of cardholder alerts: the encrypted recipient (the cardholder's contact on file) is
 * already cleared once an alert is sent; this clears it on alerts that will not be sent either
 * (dead, suppressed, no contact). Pending alerts keep it.
 */
export const PURGE_ALERTS =
  "UPDATE risk_alerts SET recipient_ciphertext = NULL, data_key_id = NULL WHERE received_at < $BEFORE AND status <> 'pending' AND recipient_ciphertext IS NOT NULL";

/** What retention clears (see `NotificationStore.purge`); `encrypted_data` is NOT NULL, so ''. */
export const PURGE_SET =
  'first_name = NULL, last_name = NULL, contact_email = NULL, phone_number = NULL, pan_ciphertext = NULL, ' +
  "payload_ciphertext = NULL, data_key_id = NULL, encrypted_data = ''";

/** Values in RECORD_COLUMNS order. `bool` adapts booleans to the dialect. */
export function recordValues(
  rec: NotificationRecord,
  now: number,
  bool: (b: boolean) => unknown,
): unknown[] {
  return [
    rec.id,
    rec.issuer,
    rec.dedupKey,
    rec.receivedAt,
    now,
    rec.tokenRequestorId,
    rec.eventType,
    rec.status,
    rec.reason,
    rec.reasonFields === null ? null : JSON.stringify(rec.reasonFields),
    rec.jwsKid,
    rec.jweKid,
    rec.tsp,
    rec.firstName,
    rec.lastName,
    rec.contactEmail,
    rec.phoneNumber,
    rec.panFingerprint,
    rec.panBin,
    rec.panLast4,
    rec.panLuhnValid === null ? null : bool(rec.panLuhnValid),
    rec.dataKeyId,
    rec.panCiphertext,
    rec.payloadCiphertext,
    rec.encryptedData,
  ];
}

/** What reprocessing a quarantined notification needs (see {@link toQuarantined}). */
export const QUARANTINED_COLUMNS =
  'id, issuer, dedup_key, received_at, token_requestor_id, event_type, reason, encrypted_data';

export function toQuarantined(r: Record<string, unknown>): QuarantinedNotification {
  return {
    id: String(r.id),
    issuer: String(r.issuer),
    dedupKey: String(r.dedup_key),
    receivedAt: Number(r.received_at),
    tokenRequestorId: String(r.token_requestor_id),
    eventType: String(r.event_type),
    reason: str(r.reason),
    encryptedData: String(r.encrypted_data),
  };
}

export const SUMMARY_COLUMNS = [
  'id, issuer, received_at, token_requestor_id, event_type, status, reason, reason_fields, tsp',
  ...ENROLLER_COLUMNS,
  'visa_attempts, purged_at',
].join(', ');

export function toSummary(r: Record<string, unknown>): NotificationSummary {
  return {
    id: String(r.id),
    issuer: String(r.issuer),
    receivedAt: Number(r.received_at),
    tokenRequestorId: String(r.token_requestor_id),
    eventType: String(r.event_type),
    status: r.status as NotificationSummary['status'],
    reason: str(r.reason),
    reasonFields:
      r.reason_fields == null ? null : (JSON.parse(String(r.reason_fields)) as string[]),
    tsp: str(r.tsp),
    ...toEnroller(r),
    visaAttempts: Number(r.visa_attempts),
    purgedAt: num(r.purged_at),
  };
}
