import { Pool } from 'undici';
import { parseRetryAfter } from './retry-policy.js';
import { standardWebhookHeaders } from './standard-webhooks.js';

/**
 * The one outbound webhook client: every signed POST this service makes goes through it,
 * enrollment events (`webhook-sink.ts`) and cardholder alerts (`risk/alert/webhook-alert-channel.ts`).
 * It lives in `delivery/` beside the Standard Webhooks signing it uses; the alert sink imports it
 * from here.
 *
 * It owns the HTTP exchange and how its result is read; what to do next (retry when, disable a
 * sink, dead-letter) is the caller's, with `retry-policy.ts`.
 */

export interface WebhookClientOptions {
  url: string;
  /**
   * Decoded Standard Webhooks keys (`parseWebhookSecret`); each signs every attempt, for rotation.
   */
  keys: readonly Buffer[];
  /**
   * Bounds the connect, the response headers and the response body, each, and the whole attempt.
   */
  timeoutMs: number;
  /** Extra CAs (PEM) to trust for https. Default: the system's. */
  ca?: Buffer | undefined;
  /** Seconds since the epoch, for webhook-timestamp. Default: the clock. */
  nowSeconds?: () => number;
}

/**
 * How one POST ended. `code` is stable and stored: HTTP_<status>, TIMEOUT, TLS or CONNECTION
 * (never an error message, which may carry the URL). `permanent`: sending the same request
 * again cannot succeed (a 4xx other than 408 and 429; 410 Gone among them).
 */
export type WebhookResult =
  | { ok: true; httpStatus: number }
  | { ok: false; code: string; permanent: boolean; httpStatus?: number; retryAfterMs?: number };

/** The response body is read up to this and dropped, so the connection can be reused. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * POSTs JSON bodies to one URL with Standard Webhooks headers over its own keep-alive
 * connection pool (an undici Pool for the URL's origin: one origin, so no Agent's look-up per
 * request). Redirects are not followed (a 3xx is a failure): the URL an operator configured is
 * the only place card-holder data goes.
 */
export class WebhookClient {
  readonly #o: WebhookClientOptions;
  readonly #pool: Pool;
  readonly #path: string;
  readonly #nowSeconds: () => number;

  constructor(o: WebhookClientOptions) {
    this.#o = o;
    this.#nowSeconds = o.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    const url = new URL(o.url);
    this.#path = `${url.pathname}${url.search}`;
    this.#pool = new Pool(url.origin, {
      connect: { timeout: o.timeoutMs, ...(o.ca ? { ca: o.ca } : {}) },
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      keepAliveTimeout: 4000,
    });
  }

  /** Sends `body` signed as message `id`. Never throws: failures are results. */
  async post(id: string, body: Buffer): Promise<WebhookResult> {
    // The timestamp is the attempt's, not the message's: receivers reject stale timestamps (replay
    // protection).
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'ctp-notify',
      ...standardWebhookHeaders(this.#o.keys, id, this.#nowSeconds(), body),
    };
    // The whole attempt's deadline. A controller and a timer cost a third of what
    // AbortSignal.timeout does per request (its timer is tracked for garbage collection).
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new DOMException('attempt timed out', 'TimeoutError')),
      this.#o.timeoutMs,
    );
    try {
      const res = await this.#pool.request({
        path: this.#path,
        method: 'POST',
        headers,
        body,
        signal: abort.signal,
      });
      await res.body.dump({ limit: DRAIN_LIMIT }).catch(() => {});
      return classifyResponse(res.statusCode, res.headers['retry-after'], Date.now());
    } catch (error) {
      return { ok: false, code: transportErrorCode(error), permanent: false };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

/**
 * Reads a response: 2xx delivered; 429 and 503 retryable with their Retry-After, if any
 * (RFC 9110 §10.2.3); any other 4xx but 408 permanent; the rest (3xx, 408, 5xx) retryable.
 */
export function classifyResponse(
  status: number,
  retryAfter: string | string[] | undefined,
  now: number,
): WebhookResult {
  if (status >= 200 && status < 300) return { ok: true, httpStatus: status };
  const code = `HTTP_${status}`;
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return {
      ok: false,
      code,
      permanent: false,
      httpStatus: status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  return {
    ok: false,
    code,
    permanent: status >= 400 && status < 500 && status !== 408,
    httpStatus: status,
  };
}

/** A stable code for a failed HTTP exchange: TIMEOUT, TLS or CONNECTION. */
export function transportErrorCode(error: unknown): 'TIMEOUT' | 'TLS' | 'CONNECTION' {
  const e = error as { name?: string; code?: string; cause?: { code?: string } } | null;
  const code = e?.code ?? e?.cause?.code;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /TIMEOUT/.test(code ?? ''))
    return 'TIMEOUT';
  if (code && /CERT|TLS|SSL/.test(code)) return 'TLS';
  return 'CONNECTION';
}
