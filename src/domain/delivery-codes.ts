/** The words of the delivery queue (the outbox), each list in one place. */

/** pending: not tried yet; failed: tried, waiting for its retry; delivered; dead: gave up. */
export const DELIVERY_STATUSES = ['pending', 'failed', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** accepted: the first delivery of an accepted notification; replay: an operator's replay. */
export const DELIVERY_ORIGINS = ['accepted', 'replay'] as const;

/** Which event a delivery carries: the enrollment attempt, or the cardholder's answer to its alert. */
export const DELIVERY_EVENTS = ['enrollment', 'cardholder_answer'] as const;

/**
 * What a message of the outbox is: an `event` for a sink (the enrollment attempt, or the
 * cardholder's answer), or a cardholder `alert` ("was this you?") for the alert channel.
 */
export const MESSAGE_KINDS = ['event', 'alert'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
