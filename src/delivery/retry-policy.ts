/**
 * The one retry policy for everything this service sends out: webhook and AMQP deliveries
 * (`delivery-worker.ts`), cardholder alerts among them (`risk/alert/alert-destination.ts`); both read a
 * `RetryConfig`-shaped object from the config.
 */

/**
 * The part of a retry config this policy reads (the sinks' `retry` and `risk.alert.retry` both
 * fit).
 */
export interface RetryPolicy {
  /** Delay after the first failed attempt; doubles per attempt. */
  initialDelayMs: number;
  /** Upper bound on any one delay, a receiver's Retry-After included. */
  maxDelayMs: number;
  /** Attempts in all; after the last one the message is dead. */
  maxAttempts: number;
}

/**
 * Delay before the next attempt after failed attempt number `attempt` (1-based):
 * exponential (`initialDelayMs · 2^(attempt-1)`, capped at `maxDelayMs`) with "equal jitter"
 * (a uniformly random half on top of a fixed half), so retries after a shared outage spread
 * out but never come sooner than half the schedule. A receiver's Retry-After replaces the
 * computed delay (RFC 9110 §10.2.3), capped at `maxDelayMs`: the operator's word on the
 * longest acceptable wait wins over the receiver's.
 *
 * @param retryAfterMs from `parseRetryAfter`; default none
 * @param random default Math.random
 */
export function retryDelayMs(
  attempt: number,
  retry: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), retry.maxDelayMs);
  const exp = Math.min(
    retry.maxDelayMs,
    retry.initialDelayMs * 2 ** Math.min(Math.max(0, attempt - 1), 40),
  );
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * What to do after failed attempt number `attempt` (1-based): give up (`dead`) when the failure
 * is permanent or that was the last attempt, else wait `delayMs` (see `retryDelayMs`), but never
 * less than half of `initialDelayMs`, the shortest wait the backoff itself gives: a receiver
 * answering `Retry-After: 0` to every attempt would otherwise use up all of them at once.
 * @param random default Math.random
 */
export function nextRetry(
  attempt: number,
  retry: RetryPolicy,
  failure: { permanent?: boolean; retryAfterMs?: number | undefined },
  random: () => number = Math.random,
): { dead: boolean; delayMs: number } {
  const dead = failure.permanent === true || attempt >= retry.maxAttempts;
  const delayMs = retryDelayMs(attempt, retry, failure.retryAfterMs, random);
  return { dead, delayMs: Math.max(delayMs, Math.round(retry.initialDelayMs / 2)) };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TIME = '([0-9]{2}):([0-9]{2}):([0-9]{2})';
const MON = `(${MONTHS.join('|')})`;
// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete rfc850-date and asctime-date a recipient must
// accept.
const IMF_FIXDATE = new RegExp(`^(?:${DAYS.join('|')}), ([0-9]{2}) ${MON} ([0-9]{4}) ${TIME} GMT$`);
const LONG_DAYS = 'Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday';
const RFC850_DATE = new RegExp(`^(?:${LONG_DAYS}), ([0-9]{2})-${MON}-([0-9]{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^(?:${DAYS.join('|')}) ${MON} ([0-9 ][0-9]) ${TIME} ([0-9]{4})$`);

/**
 * Parses an HTTP-date (RFC 9110 §5.6.7) to epoch milliseconds, or undefined. A two-digit
 * rfc850 year more than 50 years ahead of `now` is taken as the previous century (§5.6.7).
 */
export function parseHttpDate(text: string, now: number): number | undefined {
  let parts:
    | [year: number, month: string, day: string, h: string, m: string, s: string]
    | undefined;
  const imf = IMF_FIXDATE.exec(text);
  const rfc850 = imf ? null : RFC850_DATE.exec(text);
  const asctime = imf || rfc850 ? null : ASCTIME_DATE.exec(text);
  if (imf) parts = [Number(imf[3]), imf[2]!, imf[1]!, imf[4]!, imf[5]!, imf[6]!];
  else if (rfc850) {
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(rfc850[3]);
    if (year > thisYear + 50) year -= 100;
    parts = [year, rfc850[2]!, rfc850[1]!, rfc850[4]!, rfc850[5]!, rfc850[6]!];
  } else if (asctime) {
    parts = [
      Number(asctime[6]),
      asctime[1]!,
      asctime[2]!.trim(),
      asctime[3]!,
      asctime[4]!,
      asctime[5]!,
    ];
  }
  if (parts === undefined) return undefined;
  const [year, mon, day, h, min, s] = parts;
  const month = MONTHS.indexOf(mon);
  const [d, hh, mm, ss] = [Number(day), Number(h), Number(min), Number(s)];
  if (month < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return undefined;
  const at = Date.UTC(year, month, d, hh, mm, ss);
  // Date.UTC rolls 31 Feb over into March: such a date is not a date.
  return new Date(at).getUTCDate() === d ? at : undefined;
}

/**
 * Parses a Retry-After header value (RFC 9110 §10.2.3): delay-seconds (`1*DIGIT`) or an
 * HTTP-date. Returns milliseconds from `now` (a date in the past gives 0), or undefined when
 * absent or unparseable, in which case the computed backoff applies. Of a repeated header
 * the first value counts. The result is not capped here: `retryDelayMs` caps it.
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined,
  now: number,
): number | undefined {
  const v = typeof value === 'string' ? value : value?.[0];
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^[0-9]+$/.test(t)) return Number(t) * 1000;
  const at = parseHttpDate(t, now);
  return at === undefined ? undefined : Math.max(0, at - now);
}
