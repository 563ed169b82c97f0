/**
 * A cardholder alert: pending (to send), sent, suppressed (another alert to the card within
 * the window), no_contact (none on file), dead (out of attempts).
 */
export const ALERT_STATUSES = ['pending', 'sent', 'suppressed', 'no_contact', 'dead'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
