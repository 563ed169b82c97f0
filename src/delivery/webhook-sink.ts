import { Agent, request } from 'undici';
import { parseRetryAfter } from './backoff.js';
import type { DeliveryResult, OutgoingEvent, Sink } from './sink.js';
import { standardWebhookHeaders } from './standard-webhooks.js';

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
 * POSTs each event as JSON with Standard Webhooks headers. 2xx: delivered. 410 Gone: the
 * receiver retired this endpoint, so the sink is disabled (not retried into the void) until an
 * operator enables it. 429 and 503 may carry Retry-After. Anything else, a timeout or a
 * connection error: retried. Redirects are not followed (a 3xx is a failure): the URL an
 * operator configured is the only place card-holder data goes.
 */
export class WebhookSink implements Sink {
  readonly type = 'webhook' as const;
  readonly name: string;
  readonly includePan: boolean;
  readonly #o: WebhookSinkOptions;
  readonly #agent: Agent;
  readonly #nowSeconds: () => number;

  constructor(o: WebhookSinkOptions) {
    this.#o = o;
    this.name = o.name;
    this.includePan = o.includePan;
    this.#nowSeconds = o.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.#agent = new Agent({
      connect: { timeout: o.timeoutMs, ...(o.ca ? { ca: o.ca } : {}) },
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      keepAliveTimeout: 4000,
    });
  }

  async deliver(event: OutgoingEvent): Promise<DeliveryResult> {
    // The timestamp is the attempt's, not the event's: receivers reject stale timestamps (replay protection).
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'ctp-notify',
      ...standardWebhookHeaders(this.#o.keys, event.id, this.#nowSeconds(), event.body),
    };
    try {
      const res = await request(this.#o.url, {
        method: 'POST',
        headers,
        body: event.body,
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      // Read (and drop) a bounded body so the connection can be reused.
      await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
      const status = res.statusCode;
      if (status >= 200 && status < 300) return { ok: true, httpStatus: status };
      if (status === 410) return { ok: false, error: 'HTTP_410', httpStatus: status, disableSink: true };
      const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after'], Date.now()) : undefined;
      return { ok: false, error: `HTTP_${status}`, httpStatus: status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    } catch (error) {
      return { ok: false, error: transportErrorCode(error) };
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** A stable code for a failed HTTP exchange (never the message, which may carry the URL). */
export function transportErrorCode(error: unknown): string {
  const e = error as { name?: string; code?: string; cause?: { code?: string } } | null;
  const code = e?.code ?? e?.cause?.code;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /TIMEOUT/.test(code ?? '')) return 'TIMEOUT';
  if (code && /CERT|TLS|SSL/.test(code)) return 'TLS';
  return 'CONNECTION';
}
