import { WebhookClient } from '../../delivery/webhook-client.js';
import { type AlertChannel, AlertSendError, type OutgoingAlert } from './alert-channel.js';

export interface WebhookAlertChannelOptions {
  url: string;
  /** Decoded Standard Webhooks keys (see `parseWebhookSecret`). */
  keys: Buffer[];
  timeoutMs: number;
  /** Milliseconds since the epoch, for webhook-timestamp. Default: the clock. */
  now?: () => number;
}

/**
 * The bank's messaging webhook: a signed POST (Standard Webhooks, through the shared
 * `WebhookClient`) of the alert with the contacts on file and the rendered message; the
 * bank's system picks the channel (SMS, push, email). 2xx: done. 429 and 503 honour
 * Retry-After. Other 4xx (but 408): permanent. The failure code is the client's.
 */
export class WebhookAlertChannel implements AlertChannel {
  readonly type = 'webhook' as const;
  /** Requests in flight at once on the webhook client's pool. */
  readonly concurrency = 16;
  readonly #client: WebhookClient;

  constructor(o: WebhookAlertChannelOptions) {
    const { now, ...client } = o;
    this.#client = new WebhookClient({
      ...client,
      ...(now ? { nowSeconds: () => Math.floor(now() / 1000) } : {}),
    });
  }

  async send(alert: OutgoingAlert): Promise<void> {
    const body = JSON.stringify({
      type: 'ctp.cardholder_alert',
      id: alert.id,
      notificationId: alert.notificationId,
      receivedAt: new Date(alert.receivedAt).toISOString(),
      level: alert.level,
      card: { last4: alert.last4, fingerprint: alert.cardFingerprint },
      recipient: alert.recipient,
      message: alert.message,
    });
    const r = await this.#client.post(alert.id, Buffer.from(body, 'utf8'));
    if (!r.ok) throw new AlertSendError(r.code, r.permanent, r.retryAfterMs);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
