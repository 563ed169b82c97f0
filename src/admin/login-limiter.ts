/** What `LoginLimiter.attempt` gives: a wait, or leave to verify one password. */
export type LoginAttempt =
  | { allowed: false; retryAfterSeconds: number }
  | {
      allowed: true;
      /** The password was right: the name's count is cleared, the address's attempt returned. */
      succeeded(): void;
    };

/**
 * Failed-login throttle, per user name and per client address, in a sliding window (PCI DSS
 * 8.3.4). An attempt is counted when it starts, before the password is checked, and given back
 * only when it succeeds: parallel guesses cannot all slip in before the first failure is
 * recorded, so at most `maxPerName` verifications of one name (and four times that from one
 * address) ever run inside a window. Checking and counting are one synchronous step, which is
 * atomic on the event loop.
 *
 * Kept in memory: the admin listener runs in one process (the cluster primary or the single
 * process), so one limiter sees every attempt. A restart forgets it, which an attacker cannot
 * trigger.
 */
export class LoginLimiter {
  readonly #attempts = new Map<string, number[]>();
  /** A name or address that reached its limit, until when (a whole window from then). */
  readonly #lockedUntil = new Map<string, number>();

  constructor(
    private readonly maxPerName: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts an attempt, or says how long to wait (seconds) if the window is full. */
  attempt(name: string, address: string): LoginAttempt {
    const t = this.now();
    // The exact name, as the operator store matches it: names differ by case, and one must not
    // reset another's count.
    const nameKey = `n:${name}`;
    const addressKey = `a:${address}`;
    const wait = Math.max(
      this.#wait(nameKey, this.maxPerName, t),
      this.#wait(addressKey, this.maxPerName * 4, t),
    );
    if (wait > 0) return { allowed: false, retryAfterSeconds: wait };
    for (const [key, max] of [
      [nameKey, this.maxPerName],
      [addressKey, this.maxPerName * 4],
    ] as const) {
      const list = [...this.#recent(key, t), t];
      this.#attempts.set(key, list);
      // The attempt that reaches the limit locks, unless it succeeds (then it is given back).
      if (list.length >= max) this.#lockedUntil.set(key, t + this.windowMs);
    }
    if (this.#attempts.size > 10_000) this.#sweep(t);
    return {
      allowed: true,
      succeeded: () => {
        this.#attempts.delete(nameKey);
        this.#lockedUntil.delete(nameKey);
        const list = this.#attempts.get(addressKey);
        const i = list?.lastIndexOf(t) ?? -1;
        if (list && i >= 0) list.splice(i, 1);
        if ((list?.length ?? 0) < this.maxPerName * 4) this.#lockedUntil.delete(addressKey);
      },
    };
  }

  /**
   * Seconds to wait: `max` failures within a window lock for a whole window from the last of
   * them (PCI DSS 8.3.4: at least 30 minutes), however slowly they came.
   */
  #wait(key: string, max: number, t: number): number {
    const until = this.#lockedUntil.get(key) ?? 0;
    if (until > t) return Math.max(1, Math.ceil((until - t) / 1000));
    return this.#recent(key, t).length >= max ? 1 : 0;
  }

  #recent(key: string, t: number): number[] {
    return (this.#attempts.get(key) ?? []).filter((at) => at > t - this.windowMs);
  }

  #sweep(t: number): void {
    for (const [key, list] of this.#attempts)
      if (!list.some((at) => at > t - this.windowMs)) this.#attempts.delete(key);
    for (const [key, until] of this.#lockedUntil) if (until <= t) this.#lockedUntil.delete(key);
  }
}
