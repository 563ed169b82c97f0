import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { CARD_STATUSES } from '../../domain/card-statuses.js';
import type { Cardholder, CardholderDirectory, DirectoryResult } from './cardholder.js';

export interface HttpDirectoryOptions {
  url: string;
  timeoutMs: number;
  cacheSeconds: number;
  sendCardNumber: boolean;
  /** Authorization header value. */
  authorization?: string | undefined;
  /** CA file for a private https CA. */
  ca?: string | undefined;
  /** Entries kept in the cache at most. Default 10000. */
  maxEntries?: number;
  now?: () => number;
}

type Cached = { result: Extract<DirectoryResult, { kind: 'found' | 'unknown' }>; expires: number };

/**
 * The bank's directory API. Contract (documented in docs/fraud.md): `POST url` with
 * `{"fingerprint": "…"}` (plus `"accountNumber"` only when `sendCardNumber` is set) answers
 * 200 with `{"status", "firstName", "lastName", "emails"|"email", "phones"|"phone", "language"}`
 * or 404 when the card is unknown. Anything else, or no answer within `timeoutMs`, is
 * `unavailable`: the assessment goes on without it and says so. Answers (found and unknown)
 * are cached in memory for `cacheSeconds`; failures are not.
 */
export class HttpDirectory implements CardholderDirectory {
  readonly wantsCardNumber: boolean;
  /** The bank's API sees at most this many requests at once from one process. */
  readonly maxConcurrentLookups = 4;
  readonly #o: HttpDirectoryOptions;
  readonly #cache = new Map<string, Cached>();
  readonly #agent: Agent;
  readonly #now: () => number;

  constructor(o: HttpDirectoryOptions) {
    this.#o = o;
    this.wantsCardNumber = o.sendCardNumber;
    this.#now = o.now ?? Date.now;
    this.#agent = new Agent({
      connect: { timeout: o.timeoutMs, ...(o.ca ? { ca: readFileSync(o.ca) } : {}) },
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
    });
  }

  async lookup(fingerprint: string, accountNumber?: string): Promise<DirectoryResult> {
    const now = this.#now();
    const hit = this.#cache.get(fingerprint);
    if (hit !== undefined && hit.expires > now) return hit.result;
    if (hit !== undefined) this.#cache.delete(fingerprint);

    const started = performance.now();
    const unavailable = (reason: 'timeout' | 'error'): DirectoryResult => ({
      kind: 'unavailable',
      reason,
      elapsedMs: performance.now() - started,
    });
    let result: Cached['result'];
    try {
      const body = JSON.stringify(
        this.#o.sendCardNumber && accountNumber ? { fingerprint, accountNumber } : { fingerprint },
      );
      const res = await request(this.#o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.#o.authorization ? { authorization: this.#o.authorization } : {}),
        },
        body,
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      if (res.statusCode === 404) {
        await res.body.dump();
        result = { kind: 'unknown' };
      } else if (res.statusCode === 200) {
        const cardholder = parseCardholder(await res.body.json());
        if (cardholder === undefined) return unavailable('error');
        result = { kind: 'found', cardholder };
      } else {
        await res.body.dump();
        return unavailable('error');
      }
    } catch (error) {
      const name = (error as { name?: string; code?: string }).name ?? '';
      const code = (error as { code?: string }).code ?? '';
      return unavailable(
        name === 'TimeoutError' || name === 'AbortError' || code.includes('TIMEOUT')
          ? 'timeout'
          : 'error',
      );
    }
    if (this.#o.cacheSeconds > 0) {
      if (this.#cache.size >= (this.#o.maxEntries ?? 10_000))
        this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(fingerprint, { result, expires: now + this.#o.cacheSeconds * 1000 });
    }
    return result;
  }

  async close(): Promise<void> {
    this.#cache.clear();
    await this.#agent.close();
  }
}

const list = (many: unknown, one: unknown): string[] =>
  (Array.isArray(many) ? many : one === undefined || one === null ? [] : [one]).filter(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );

/** Validates the directory's answer; undefined when it is not a cardholder. */
export function parseCardholder(v: unknown): Cardholder | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const status = typeof o.status === 'string' ? o.status.toLowerCase() : 'active';
  if (!(CARD_STATUSES as readonly string[]).includes(status)) return undefined;
  const str = (x: unknown) => (typeof x === 'string' && x.length > 0 ? x : null);
  return {
    firstName: str(o.firstName),
    lastName: str(o.lastName),
    emails: list(o.emails, o.email),
    phones: list(o.phones, o.phone),
    status: status as Cardholder['status'],
    language: str(o.language),
  };
}
