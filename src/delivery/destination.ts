import type { ClaimedDelivery } from '../storage/outbox-store.js';
import type { DeliveryResult } from './sink.js';

/** What one attempt at a message came to, with the id its receiver deduplicates on. */
export type SendResult = DeliveryResult & {
  /** `evt_…` of an event, the alert id of an alert; absent when the message could not be built. */
  messageId?: string;
};

/**
 * Where one lane of the outbox worker sends: a configured sink (events), or the cardholder alert
 * channel. The worker claims rows whose `sink` is `name`, hands each to `send`, and records the
 * result on the one retry policy; what a message is, and how it is built, is the destination's.
 */
export interface Destination {
  /** The outbox's `sink` for this destination's rows. */
  readonly name: string;
  /** Sends one claimed message; never throws (a failure is a result). */
  send(d: ClaimedDelivery): Promise<SendResult>;
  close(): Promise<void>;
}
