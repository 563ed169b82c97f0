import { request } from 'undici';
import { AlertSendError, type AlertSink, type OutgoingAlert } from './alert-sink.js';
import { standardWebhookHeaders } from '../../delivery/standard-webhooks.js';

export interface WebhookSinkOptions {
  url: string;
  /** Decoded Standard Webhooks keys (see `parseWebhookSecret`). */
  keys: Buffer[];
  timeoutMs: number;
  now?: () => number;
}

/**
 * The bank's messaging webhook: a signed POST (Standard Webhooks) of the alert with the
 * contacts on file and the rendered message; the bank's system picks the channel (SMS, push,
 * email). 2xx: done. 429 and 503 honour Retry-After. Other 4xx (but 408): permanent.
 */
export class WebhookAlertSink implements AlertSink {
  readonly type = 'webhook' as const;
  readonly #o: WebhookSinkOptions;

  constructor(o: WebhookSinkOptions) {
    this.#o = o;
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
    const ts = Math.floor((this.#o.now ?? Date.now)() / 1000);
    let status: number;
    let retryAfter: string | undefined;
    try {
      const res = await request(this.#o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...standardWebhookHeaders(this.#o.keys, alert.id, ts, Buffer.from(body, 'utf8')) },
        body,
        headersTimeout: this.#o.timeoutMs,
        bodyTimeout: this.#o.timeoutMs,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      status = res.statusCode;
      const ra = res.headers['retry-after'];
      retryAfter = Array.isArray(ra) ? ra[0] : ra;
      await res.body.dump();
    } catch {
      throw new AlertSendError('WEBHOOK_UNREACHABLE');
    }
    if (status >= 200 && status < 300) return;
    if (status === 429 || status === 503) throw new AlertSendError(`WEBHOOK_${status}`, false, retryAfterMs(retryAfter));
    throw new AlertSendError(`WEBHOOK_${status}`, status >= 400 && status < 500 && status !== 408);
  }

  async close(): Promise<void> {}
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(v: string | undefined, now = Date.now()): number | undefined {
  if (v === undefined) return undefined;
  if (/^[0-9]+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
