/** A stored notification is accepted (delivered onward) or quarantined (kept for an operator). */
export const NOTIFICATION_STATUSES = ['accepted', 'quarantined'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
