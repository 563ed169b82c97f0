/**
 * Failed-login throttle, per user name and per client address, in a sliding window. Kept in
 * memory: the admin listener runs in one process (the cluster primary or the single process),
 * so one limiter sees every attempt. A restart forgets it, which an attacker cannot trigger.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly maxPerName: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Seconds until another attempt is allowed, or 0. Addresses get four times the names' allowance.
   */
  retryAfter(name: string, address: string): number {
    const t = this.now();
    const wait = (key: string, max: number) => {
      const list = this.#recent(key, t);
      return list.length >= max
        ? Math.ceil((list[list.length - max]! + this.windowMs - t) / 1000)
        : 0;
    };
    return Math.max(
      wait(`n:${name.toLowerCase()}`, this.maxPerName),
      wait(`a:${address}`, this.maxPerName * 4),
    );
  }

  fail(name: string, address: string): void {
    const t = this.now();
    for (const key of [`n:${name.toLowerCase()}`, `a:${address}`])
      this.#failures.set(key, [...this.#recent(key, t), t]);
    if (this.#failures.size > 10_000) this.#sweep(t);
  }

  /** A successful login clears the name's failures (not the address's). */
  succeed(name: string): void {
    this.#failures.delete(`n:${name.toLowerCase()}`);
  }

  #recent(key: string, t: number): number[] {
    return (this.#failures.get(key) ?? []).filter((at) => at > t - this.windowMs);
  }

  #sweep(t: number): void {
    for (const [key, list] of this.#failures)
      if (!list.some((at) => at > t - this.windowMs)) this.#failures.delete(key);
  }
}
