import type { RetryConfig } from '../config/delivery-schema.js';

/**
 * Delay before the next attempt after failed attempt number `attempt` (1-based):
 * exponential (`initialDelayMs · 2^(attempt-1)`, capped at `maxDelayMs`) with "equal jitter"
 * (a uniformly random half on top of a fixed half), so retries after a shared outage spread
 * out but never come sooner than half the schedule. A receiver's Retry-After replaces the
 * computed delay (RFC 9110 §10.2.3), capped at `maxDelayMs`: the operator's word on the
 * longest acceptable wait wins over the receiver's.
 *
 * @param random default Math.random
 */
export function retryDelayMs(attempt: number, retry: RetryConfig, retryAfterMs?: number, random: () => number = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), retry.maxDelayMs);
  const exp = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.min(Math.max(0, attempt - 1), 40));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * Parses a Retry-After header value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Returns milliseconds from `now`, or undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^[0-9]+$/.test(t)) return Number(t) * 1000;
  // HTTP-date forms all start with a day name ("Sun, 06 Nov 1994 08:49:37 GMT").
  if (!/^[A-Z][a-z]{2}/.test(t)) return undefined;
  const at = Date.parse(t);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
