import type { Static } from '@sinclair/typebox';
import type { DeliveryItem } from '../api/api-schemas.js';
import { eventId } from '../events/ctp-event.js';
import type { DeliverySummary } from '../storage/outbox-store.js';
import { iso } from './iso-time.js';

/**
 * The one public JSON of a delivery: `GET /api/deliveries` items and `deliveries list --format
 * json` (whose table shows a selection of these fields). `nextAttemptAt` only while one is due;
 * `inFlight` while a worker's lease on it is live at `now`. A cardholder answer's event id is
 * `evt_` + the alert id; an alert message's id is the alert's (what its receiver deduplicates on).
 */
export function presentDelivery(d: DeliverySummary, now: number): Static<typeof DeliveryItem> {
  return {
    id: d.id,
    issuer: d.issuer,
    kind: d.kind,
    notificationId: d.notificationId,
    eventId:
      d.kind === 'alert' && d.alertId
        ? d.alertId
        : eventId(d.event === 'cardholder_answer' && d.alertId ? d.alertId : d.notificationId),
    event: d.event,
    sink: d.sink,
    origin: d.origin,
    status: d.status,
    attempts: d.attempts,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    nextAttemptAt: d.status === 'pending' || d.status === 'failed' ? iso(d.nextAttemptAt) : null,
    deliveredAt: iso(d.deliveredAt),
    lastError: d.lastError,
    lastStatus: d.lastStatus,
    inFlight: d.leaseUntil !== null && d.leaseUntil > now,
  };
}
