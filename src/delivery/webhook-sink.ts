import type { DeliveryResult, OutgoingEvent, Sink } from './sink.js';
import { WebhookClient } from './webhook-client.js';

export interface WebhookSinkOptions {
  name: string;
  url: string;
  /** Decoded Standard Webhooks keys; each signs every attempt. */
  keys: readonly Buffer[];
  timeoutMs: number;
  includePan: boolean;
  /** Extra CAs (PEM) to trust for https. */
  ca?: Buffer | undefined;
  /** Seconds since the epoch, for webhook-timestamp. Default: the clock. */
  nowSeconds?: () => number;
}

/**
 * POSTs each event through the shared `WebhookClient`. 2xx: delivered. 410 Gone: the receiver
 * retired this endpoint, so the sink is disabled (not retried into the void) until an operator
 * enables it. 429 and 503 may carry Retry-After. Anything else, other 4xx included, is retried
 * on the sink's schedule and dead-lettered after the last attempt: an event is the bank's
 * record, and a receiver refusing it (a 401 after a key rotation) is usually fixed in time.
 */
export class WebhookSink implements Sink {
  readonly type = 'webhook' as const;
  readonly name: string;
  readonly includePan: boolean;
  readonly #client: WebhookClient;

  constructor(o: WebhookSinkOptions) {
    this.name = o.name;
    this.includePan = o.includePan;
    this.#client = new WebhookClient(o);
  }

  async deliver(event: OutgoingEvent): Promise<DeliveryResult> {
    const r = await this.#client.post(event.id, event.body);
    if (r.ok) return r;
    return {
      ok: false,
      error: r.code,
      ...(r.httpStatus !== undefined ? { httpStatus: r.httpStatus } : {}),
      ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}),
      ...(r.httpStatus === 410 ? { disableSink: true } : {}),
    };
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
