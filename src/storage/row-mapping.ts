import type {
  NotificationRecord,
  NotificationSummary,
  QuarantinedNotification,
} from './notification-record.js';

/** Column order shared by both dialects' INSERT statements. */
export const RECORD_COLUMNS = [
  'id',
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
  'first_name',
  'last_name',
  'contact_email',
  'phone_number',
  'pan_fingerprint',
  'pan_bin',
  'pan_last4',
  'pan_luhn_valid',
  'data_key_id',
  'pan_ciphertext',
  'payload_ciphertext',
  'encrypted_data',
] as const;

/**
 * Columns a reprocessing result may overwrite (everything but identity and arrival). The
 * envelope is rewritten too: it can only be the same bytes (same dedup key), except on a row
 * whose envelope retention purged, which a Visa retry then restores.
 */
export const UPDATABLE_COLUMNS = RECORD_COLUMNS.filter(
  (c) => c !== 'id' && c !== 'dedup_key' && c !== 'received_at' && c !== 'token_requestor_id',
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
  'id, dedup_key, received_at, token_requestor_id, event_type, reason, encrypted_data';

export function toQuarantined(r: Record<string, unknown>): QuarantinedNotification {
  return {
    id: String(r.id),
    dedupKey: String(r.dedup_key),
    receivedAt: Number(r.received_at),
    tokenRequestorId: String(r.token_requestor_id),
    eventType: String(r.event_type),
    reason: (r.reason as string | null) ?? null,
    encryptedData: String(r.encrypted_data),
  };
}

export const SUMMARY_COLUMNS =
  'id, received_at, token_requestor_id, event_type, status, reason, reason_fields, tsp, pan_bin, pan_last4, ' +
  'pan_luhn_valid, pan_fingerprint, first_name, last_name, contact_email, phone_number, visa_attempts, purged_at';

export function toSummary(r: Record<string, unknown>): NotificationSummary {
  return {
    id: String(r.id),
    receivedAt: Number(r.received_at),
    tokenRequestorId: String(r.token_requestor_id),
    eventType: String(r.event_type),
    status: r.status as NotificationSummary['status'],
    reason: (r.reason as string | null) ?? null,
    reasonFields:
      r.reason_fields == null ? null : (JSON.parse(String(r.reason_fields)) as string[]),
    tsp: (r.tsp as string | null) ?? null,
    panBin: (r.pan_bin as string | null) ?? null,
    panLast4: (r.pan_last4 as string | null) ?? null,
    panLuhnValid: r.pan_luhn_valid == null ? null : Boolean(r.pan_luhn_valid),
    panFingerprint: (r.pan_fingerprint as string | null) ?? null,
    firstName: (r.first_name as string | null) ?? null,
    lastName: (r.last_name as string | null) ?? null,
    contactEmail: (r.contact_email as string | null) ?? null,
    phoneNumber: (r.phone_number as string | null) ?? null,
    visaAttempts: Number(r.visa_attempts),
    purgedAt: r.purged_at == null ? null : Number(r.purged_at),
  };
}
