import type { Static } from '@sinclair/typebox';
import type { NotificationDetail, NotificationItem } from '../api/api-schemas.js';
import type { RiskSummary } from '../domain/risk-codes.js';
import type {
  NotificationDetail as DetailRow,
  NotificationRow,
} from '../storage/notification-queries.js';
import type { NotificationSummary } from '../storage/notification-record.js';
import { iso } from './iso-time.js';

/**
 * The public JSON of a notification, in the two shapes that are published: the admin API's
 * (and the console's) and the CLI's `notifications list --format json`, which predates the API
 * and keeps the enroller's fields at the top level and `risk` as {score, level, reasons}.
 * Neither ever carries the full card number: BIN and last four at most (PCI DSS 3.4.1).
 */

/** BIN…last4, or null without a card number. */
export function maskedPan(n: Pick<NotificationSummary, 'panBin' | 'panLast4'>): string | null {
  return n.panLast4 ? `${n.panBin ?? ''}…${n.panLast4}` : null;
}

/** An item of `GET /api/notifications` and `POST /api/notifications/search`. */
export function presentNotification(n: NotificationRow): Static<typeof NotificationItem> {
  return {
    id: n.id,
    issuer: n.issuer,
    receivedAt: iso(n.receivedAt),
    tokenRequestorId: n.tokenRequestorId,
    eventType: n.eventType,
    status: n.status,
    reason: n.reason,
    reasonFields: n.reasonFields,
    tsp: n.tsp,
    maskedPan: maskedPan(n),
    panBin: n.panBin,
    panLast4: n.panLast4,
    panLuhnValid: n.panLuhnValid,
    panFingerprint: n.panFingerprint,
    enroller: {
      firstName: n.firstName,
      lastName: n.lastName,
      contactEmail: n.contactEmail,
      phoneNumber: n.phoneNumber,
    },
    visaAttempts: n.visaAttempts,
    risk: n.risk && { ...n.risk, assessedAt: iso(n.risk.assessedAt) },
  };
}

/** `GET /api/notifications/:id`: the item and the keys it came under. */
export function presentNotificationDetail(n: DetailRow): Static<typeof NotificationDetail> {
  return {
    ...presentNotification(n),
    jwsKid: n.jwsKid,
    jweKid: n.jweKid,
    updatedAt: iso(n.updatedAt),
  };
}

/**
 * An item of `notifications list --format json`. `risk` is null until the notification is
 * assessed (and for quarantined ones, which are never assessed); `riskShadow` only when
 * shadow-mode rules fired.
 */
export function presentNotificationListItem(n: NotificationRow) {
  const assessment = n.risk;
  const risk: RiskSummary | null = assessment
    ? { score: assessment.score, level: assessment.level, reasons: assessment.reasons }
    : null;
  return {
    id: n.id,
    issuer: n.issuer,
    receivedAt: iso(n.receivedAt),
    tokenRequestorId: n.tokenRequestorId,
    eventType: n.eventType,
    status: n.status,
    reason: n.reason,
    reasonFields: n.reasonFields,
    tsp: n.tsp,
    panBin: n.panBin,
    panLast4: n.panLast4,
    panLuhnValid: n.panLuhnValid,
    panFingerprint: n.panFingerprint,
    firstName: n.firstName,
    lastName: n.lastName,
    contactEmail: n.contactEmail,
    phoneNumber: n.phoneNumber,
    visaAttempts: n.visaAttempts,
    purgedAt: iso(n.purgedAt),
    risk,
    ...(assessment && assessment.shadow.length > 0 ? { riskShadow: assessment.shadow } : {}),
  };
}
