/** One event, serialised once per attempt, as a sink sends it. */
export interface OutgoingEvent {
  /** Stable event id (`evt_…`): Standard Webhooks `webhook-id`, AMQP `message-id`. */
  id: string;
  /** `ctp.enrollment_attempt`…: AMQP routing key and `type`. */
  type: string;
  /** The JSON text of the event (UTF-8), exactly as sent and signed. */
  body: Buffer;
}

export type DeliveryResult =
  | { ok: true; httpStatus?: number }
  | {
      ok: false;
      /**
       * Stable code for `deliveries list`: HTTP_503, TIMEOUT, CONNECTION, AMQP_NACK,
       * AMQP_UNROUTABLE…
       */
      error: string;
      httpStatus?: number;
      /** The receiver asked for this delay (Retry-After on 429/503). */
      retryAfterMs?: number;
      /** Trying again cannot help (no recipient, a rejected address): dead at once. */
      permanent?: boolean;
      /**
       * The receiver said it is gone for good (HTTP 410): stop the sink until an operator enables
       * it.
       */
      disableSink?: boolean;
    };

/** A destination for events. Implementations never throw from `deliver`: failures are results. */
export interface Sink {
  readonly name: string;
  readonly type: 'webhook' | 'rabbitmq';
  readonly includePan: boolean;
  deliver(event: OutgoingEvent): Promise<DeliveryResult>;
  close(): Promise<void>;
}
