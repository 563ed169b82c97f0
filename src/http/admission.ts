/** Why a request was answered 500 at once instead of being worked on. */
export type ShedReason = 'in_flight' | 'deadline';

/** Where the number in flight is shown (a Prometheus gauge). */
export interface InFlightGauge {
  inc(): void;
  dec(): void;
}

export interface AdmissionLimits {
  /** Visa requests this process holds at once, waiting for their turn or being worked on. */
  maxInFlight: number;
  /** Longest a request, once read whole, may wait for its work to start. */
  maxWaitMs: number;
}

/**
 * Requests whose work starts in one turn of the event loop. Between turns the loop reads the
 * sockets again and accepts new connections (connection-intake.ts), so a request arriving behind
 * a burst is refused at once rather than after the burst; a turn's requests still share one group
 * commit. Each start holds the loop about a millisecond (its RSA operations): at 16, turns of
 * 20-40 ms let a storm of new connections fill the accept queue (`npm run bench -- --rows 5
 * --overload-connection per-request`).
 */
export const STARTS_PER_TURN = 4;

interface Waiting {
  arrivedAt: number;
  resolve: (shed: ShedReason | undefined) => void;
}

/** Weight of the newest turn in the running estimate of a busy turn's length. */
const TURN_WEIGHT = 0.2;

/**
 * Admission control for the Visa route, per process. A request waits in a queue (first in,
 * first out) for its work to start, the RSA operations first; at most `maxInFlight` are waiting
 * or being worked on. One past that limit is refused at once, and so is one that has waited
 * longer than `maxWaitMs` when its turn comes. One that arrives behind a backlog the process
 * would not clear within `maxWaitMs` (at the rate the current busy spell's turns take) is
 * refused at once too, rather than after waiting that long for the same answer, and so is one
 * already waiting once the spell's pace says it would not start in time: the client sees its
 * 500 in milliseconds and its retry goes elsewhere sooner. All are refused before any RSA
 * operation or write, so that under overload the process spends its CPU on requests it can
 * still answer in time, not on a queue of ones whose client has given up. Visa retries a 500.
 * Times are `performance.now()` milliseconds.
 */
export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #gauge: InFlightGauge | undefined;
  readonly #queue: Waiting[] = [];
  #head = 0;
  #inFlight = 0;
  #scheduled = false;
  /** When the last busy turn (one that started STARTS_PER_TURN) ran; undefined after an idle one. */
  #busySince: number | undefined;
  /** Running estimate of how long a turn of the current busy spell takes, ms; 0 outside one. */
  #turnMs = 0;

  constructor(limits: AdmissionLimits, gauge?: InFlightGauge) {
    this.#limits = limits;
    this.#gauge = gauge;
  }

  /** Requests admitted and not yet released: waiting for their turn, or being worked on. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Resolves when the request (read whole by now: a slow upload is the transport's deadlines'
   * business) may start, or with why it is refused. Once started, the caller must `release()`
   * when it has its answer.
   */
  admit(): Promise<ShedReason | undefined> {
    const arrivedAt = performance.now();
    if (this.#inFlight >= this.#limits.maxInFlight) return Promise.resolve('in_flight');
    // Only while a busy spell lasts, on its own turns' pace (0 until one was measured).
    if (
      this.#busySince !== undefined &&
      Math.floor((this.#queue.length - this.#head) / STARTS_PER_TURN) * this.#turnMs >
        this.#limits.maxWaitMs
    ) {
      return Promise.resolve('deadline');
    }
    this.#inFlight++;
    this.#gauge?.inc();
    return new Promise((resolve) => {
      this.#queue.push({ arrivedAt, resolve });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After the sockets are read (the check phase follows the poll phase).
        setImmediate(this.#start);
      }
    });
  }

  /** How long the oldest request waiting for its turn has waited (0 when none waits), ms. */
  waitingMs(now = performance.now()): number {
    const w = this.#queue[this.#head];
    return w === undefined ? 0 : now - w.arrivedAt;
  }

  /** Running estimate of how long a turn that starts STARTS_PER_TURN requests takes, ms. */
  get turnMs(): number {
    return this.#turnMs;
  }

  /** The limits this admission applies. */
  get limits(): AdmissionLimits {
    return this.#limits;
  }

  release(): void {
    this.#inFlight--;
    this.#gauge?.dec();
  }

  /**
   * Refuses now each waiting request that, at the pace of this busy spell's turns, would pass
   * its deadline before its turn: it would get the same 500, only later (a request admitted
   * when the queue looked short, whose turns then grew long). The first of those still waiting
   * starts in the next turn, one turn from now.
   */
  #refuseHopeless(now: number): void {
    const kept: Waiting[] = [];
    for (let i = this.#head; i < this.#queue.length; i++) {
      const w = this.#queue[i]!;
      const turns = Math.floor(kept.length / STARTS_PER_TURN) + 1;
      if (now - w.arrivedAt + turns * this.#turnMs > this.#limits.maxWaitMs) {
        this.release();
        w.resolve('deadline');
      } else kept.push(w);
    }
    this.#queue.splice(this.#head, this.#queue.length - this.#head, ...kept);
  }

  /** Starts up to STARTS_PER_TURN waiting requests; refuses those past their deadline. */
  readonly #start = (): void => {
    this.#scheduled = false;
    const now = performance.now();
    const sampled = this.#busySince !== undefined;
    if (this.#busySince !== undefined) {
      // The previous turn started a full share and so did the work between then and now.
      const sample = now - this.#busySince;
      this.#turnMs =
        this.#turnMs === 0 ? sample : this.#turnMs + TURN_WEIGHT * (sample - this.#turnMs);
    }
    let started = 0;
    while (this.#head < this.#queue.length && started < STARTS_PER_TURN) {
      const w = this.#queue[this.#head++]!;
      if (now - w.arrivedAt > this.#limits.maxWaitMs) {
        this.release();
        w.resolve('deadline');
      } else {
        started++;
        w.resolve(undefined);
      }
    }
    // Only a turn with more waiting behind it is followed at once by the next: the gap between
    // the two is the time a busy turn takes.
    this.#busySince =
      started === STARTS_PER_TURN && this.#head < this.#queue.length ? now : undefined;
    // The pace is this busy spell's own: measured by one of its turns at least.
    if (sampled && this.#busySince !== undefined) {
      this.#refuseHopeless(now);
      // Nothing left behind this turn: the next one is not its follower.
      if (this.#head === this.#queue.length) this.#busySince = undefined;
    }
    // A spell over, its pace is forgotten: an estimate kept from it, if high, would refuse the
    // very backlogs of the next spell that could correct it.
    if (this.#busySince === undefined) this.#turnMs = 0;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else {
      // Under sustained load the queue never empties: drop what was taken from its front.
      if (this.#head >= 1024) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#scheduled = true;
      setImmediate(this.#start);
    }
  };
}
