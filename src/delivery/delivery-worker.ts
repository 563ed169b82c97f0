import { hostname } from 'node:os';
import type { DeliveryConfig } from '../config/delivery-schema.js';
import type { Logger } from '../logger.js';
import {
  ALERT_DESTINATION,
  type ClaimedDelivery,
  type OutboxOutcome,
  type OutboxStore,
} from '../storage/outbox-store.js';
import type { Destination, SendResult } from './destination.js';
import { nextRetry, type RetryPolicy } from './retry-policy.js';

/** One destination of the worker, with its retry policy and how many it sends at once. */
export interface WorkerLane {
  destination: Destination;
  retry: RetryPolicy;
  concurrency: number;
  /** The longest one attempt may take (the sink's timeout); default 0. */
  attemptMs?: number;
}

export interface DeliveryWorkerOptions {
  outbox: OutboxStore;
  /** A lane per sink, and one for cardholder alerts when they are configured. */
  lanes: readonly WorkerLane[];
  delivery: DeliveryConfig;
  logger: Logger;
  /** In `lease_owner`, for operators. Default `hostname:pid`. */
  workerId?: string;
  /** Default Math.random (backoff jitter). */
  random?: () => number;
  /** Called once per attempt with its outcome (metrics). */
  onOutcome?: (o: DeliveryOutcome) => void;
}

export interface DeliveryOutcome {
  sink: string;
  outcome: 'delivered' | 'retry' | 'dead' | 'sink-disabled';
  /** 1-based attempt number. */
  attempt: number;
  /** From the delivery's creation (≈ acceptance) to this outcome. */
  ageMs: number;
  /** Error code when not delivered. */
  error?: string;
}

/**
 * One destination's loop state. Each has its own loop, so a slow or dead sink holds up only
 * itself.
 */
interface Lane extends WorkerLane {
  /** Claimed messages waiting for one of the lane's `concurrency` slots. */
  queue: { message: ClaimedDelivery; claimedAt: number }[];
  /** Bumped by every 410: a claim that was running meanwhile gives back what it took. */
  gone: number;
  inflight: Set<Promise<void>>;
  woken: boolean;
  wakeUp: (() => void) | undefined;
  /** A 410's record (the sink disabled), which the lane's next claim waits for. */
  disabling: Promise<void> | undefined;
}

/**
 * How long a sent message's outcome may wait to be recorded with others (or with the next
 * claim of any lane, which records whatever is waiting first): one write of a few statements for
 * all of them instead of a write each. The message stays leased meanwhile, so nothing else
 * sends it.
 */
export const OUTCOME_LINGER_MS = 25;

/**
 * How long an idle lane, once woken, waits before it claims: a claim is a write transaction
 * and a scan of due rows, and under load wakes come with every group commit.
 */
export const CLAIM_GATHER_MS = 25;

/**
 * A claim takes up to this many times the lane's concurrency (at most MAX_CLAIM), and the lane
 * claims again once half of that is left, queued or being sent: under load one claim (a write
 * and a scan of due rows) serves many messages instead of a few.
 */
export const CLAIM_AHEAD = 4;
const MAX_CLAIM = 256;
/** Kept between a queued message's attempt ending and its lease ending. */
const LEASE_MARGIN_MS = 1000;
/** A message started within this of its claim was started by the claim's own turn. */
const CLAIM_TURN_MS = 50;
/** Before the one retry of a failed outcome write. */
const RECORD_RETRY_MS = 250;

/** How often a worker with the alert lane queues alerts written without a message. */
const ADOPT_EVERY_MS = 60_000;

/**
 * The outbox engine: drains the one outbox into its destinations (the sinks' events, the
 * cardholders' alerts), at least once. Per destination: claim up to `concurrency` due messages
 * (leased, so a dead worker's claims return to the queue when the lease ends), hand each to the
 * destination, record the outcome (delivered; retry at a backed-off time on the one retry
 * policy; dead after the last attempt or a permanent failure; sink disabled on HTTP 410). A
 * crash between sending and recording means the message is sent again: receivers deduplicate on
 * its id. Woken by `wake()` (this process queued something) and by the store's `watch` (another
 * process did); otherwise polls every `pollIntervalMs`.
 */
export class DeliveryWorker {
  readonly #o: DeliveryWorkerOptions;
  readonly #workerId: string;
  readonly #random: () => number;
  readonly #lanes: Lane[];
  #loops: Promise<void>[] = [];
  #watch: { close(): Promise<void> } | undefined;
  #adoptTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** Outcomes of sent messages not yet recorded, of every lane (see OUTCOME_LINGER_MS). */
  #outcomes: Sent[] = [];
  #outcomeTimer: NodeJS.Timeout | undefined;
  #recording = new Set<Promise<void>>();

  constructor(o: DeliveryWorkerOptions) {
    this.#o = o;
    this.#workerId = o.workerId ?? `${hostname()}:${process.pid}`;
    this.#random = o.random ?? Math.random;
    this.#lanes = o.lanes.map((s) => ({
      ...s,
      queue: [],
      gone: 0,
      inflight: new Set(),
      woken: false,
      wakeUp: undefined,
      disabling: undefined,
    }));
  }

  get workerId(): string {
    return this.#workerId;
  }

  async start(): Promise<void> {
    this.#watch = await this.#o.outbox.watch(
      () => this.wake(),
      (error) =>
        this.#o.logger.warn(
          { code: 'OUTBOX_LISTEN_FAILED', errType: errType(error) },
          'outbox notifications lost; polling until reconnected',
        ),
    );
    if (this.#lanes.some((l) => l.destination.name === ALERT_DESTINATION)) {
      await this.#adoptAlerts();
      // Again each minute: instances of the previous release may still be assessing.
      this.#adoptTimer = setInterval(() => void this.#adoptAlerts(), ADOPT_EVERY_MS).unref();
    }
    this.#loops = this.#lanes.map((lane) => this.#run(lane));
    this.#o.logger.info(
      { workerId: this.#workerId, sinks: this.#lanes.map((l) => l.destination.name) },
      'delivery worker started',
    );
  }

  /** Alerts an instance of the previous release wrote during a rolling upgrade. */
  async #adoptAlerts(): Promise<void> {
    try {
      const adopted = await this.#o.outbox.adoptPendingAlerts();
      if (adopted > 0) this.#o.logger.info({ adopted }, 'queued alerts written without a message');
    } catch (error) {
      this.#o.logger.error(
        { code: 'STORAGE_UNAVAILABLE', errType: errType(error) },
        'cannot queue alerts written without a message; trying again in a minute',
      );
    }
  }

  /** Something was queued: look now rather than at the next poll. */
  wake(): void {
    for (const lane of this.#lanes) {
      lane.woken = true;
      lane.wakeUp?.();
    }
  }

  /**
   * Stops claiming, lets deliveries in flight finish and record their outcome, closes the sinks.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#adoptTimer);
    for (const lane of this.#lanes) lane.wakeUp?.();
    await Promise.all(this.#loops);
    await this.#watch?.close();
    await Promise.all(this.#lanes.map((l) => l.destination.close().catch(() => {})));
    this.#o.logger.info({ workerId: this.#workerId }, 'delivery worker stopped');
  }

  async #run(lane: Lane): Promise<void> {
    // Claiming ahead only when a held message can wait and still end its attempt within its
    // lease: with a lease barely longer than the sink's timeout, a claim takes what the free
    // slots start at once, and nothing waits.
    const ahead = this.#mayWaitMs(lane) >= this.#o.delivery.leaseMs / 2 ? CLAIM_AHEAD : 1;
    const batch = Math.min(lane.concurrency * ahead, MAX_CLAIM);
    while (!this.#stopping) {
      const held = lane.queue.length + lane.inflight.size;
      // Claim again once half a batch is left, queued or being sent.
      if (held > batch / 2 && lane.inflight.size > 0) {
        await Promise.race(lane.inflight);
        continue;
      }
      lane.woken = false;
      // No claim while a 410 is being recorded: on PostgreSQL it could run before the sink is
      // disabled, and send more to the endpoint that answered Gone.
      if (lane.disabling) await lane.disabling;
      // The outcomes waiting are written in the claim's turn: one group commit for both.
      this.#recordOutcomes();
      let claimed: ClaimedDelivery[];
      // Before the claim: its lease starts when the claim runs, which may wait for a connection.
      const claimedAt = Date.now();
      const gone = lane.gone;
      try {
        claimed = await this.#o.outbox.claim({
          sink: lane.destination.name,
          limit: batch - held,
          leaseMs: this.#o.delivery.leaseMs,
          workerId: this.#workerId,
        });
      } catch (error) {
        this.#o.logger.error(
          { sink: lane.destination.name, code: 'STORAGE_UNAVAILABLE', errType: errType(error) },
          'cannot claim deliveries',
        );
        await this.#idle(lane);
        continue;
      }
      if (lane.gone !== gone || lane.disabling) {
        // A 410 arrived while this claim ran (on PostgreSQL it may have read the sink as
        // enabled): nothing of it goes to the endpoint that said Gone.
        this.#track(this.#release(claimed));
        continue;
      }
      for (const message of claimed) lane.queue.push({ message, claimedAt });
      this.#pump(lane);
      if (claimed.length < batch - held) await this.#idle(lane);
    }
    await Promise.all(lane.inflight);
    await this.#release(lane.queue.splice(0).map((q) => q.message));
    this.#recordOutcomes();
    await Promise.all(this.#recording);
  }

  /**
   * Sends queued messages while the lane has free slots. One whose lease could end before its
   * attempt does (a slow sink ahead of it) is given back rather than sent: another worker could
   * take it over and send it at the same time.
   */
  #pump(lane: Lane): void {
    const stale: ClaimedDelivery[] = [];
    const mayWait = Math.max(this.#mayWaitMs(lane), 0);
    while (
      !this.#stopping &&
      lane.disabling === undefined &&
      lane.inflight.size < lane.concurrency &&
      lane.queue.length > 0
    ) {
      const { message, claimedAt } = lane.queue.shift()!;
      // What a claim's turn starts at once never counts as waiting (see #run's `ahead`).
      const waited = Date.now() - claimedAt;
      if (waited > mayWait && waited > CLAIM_TURN_MS) {
        stale.push(message);
        continue;
      }
      const p: Promise<void> = this.#deliver(lane, message).finally(() => {
        lane.inflight.delete(p);
        this.#pump(lane);
      });
      lane.inflight.add(p);
    }
    if (stale.length > 0) this.#track(this.#release(stale));
  }

  /** How long a claimed message may wait for a slot and still end its attempt in its lease. */
  #mayWaitMs(lane: Lane): number {
    return this.#o.delivery.leaseMs - (lane.attemptMs ?? 0) - LEASE_MARGIN_MS;
  }

  /** A write `stop()` waits for. */
  #track(write: Promise<void>): void {
    const p = write.finally(() => this.#recording.delete(p));
    this.#recording.add(p);
  }

  /** Gives back claimed messages not sent (stopping, sink disabled, stale): due again at once. */
  async #release(messages: readonly ClaimedDelivery[]): Promise<void> {
    const byLease = new Map<string, string[]>();
    for (const m of messages)
      byLease.set(m.leaseToken, [...(byLease.get(m.leaseToken) ?? []), m.id]);
    try {
      for (const [leaseToken, ids] of byLease) await this.#o.outbox.release(leaseToken, ids);
    } catch (error) {
      // Their leases run out instead.
      this.#o.logger.warn(
        { code: 'STORAGE_UNAVAILABLE', errType: errType(error), messages: messages.length },
        'cannot give back claimed messages; they are sent once their lease ends',
      );
    }
  }

  /** Queues a sent message's outcome to be recorded within OUTCOME_LINGER_MS. */
  #queueOutcome(sent: Sent): void {
    this.#outcomes.push(sent);
    this.#outcomeTimer ??= setTimeout(() => this.#recordOutcomes(), OUTCOME_LINGER_MS);
  }

  /** Records every waiting outcome in one write, then logs each and counts it. */
  #recordOutcomes(): void {
    clearTimeout(this.#outcomeTimer);
    this.#outcomeTimer = undefined;
    if (this.#outcomes.length === 0) return;
    const list = this.#outcomes;
    this.#outcomes = [];
    const p: Promise<void> = this.#record(list).then(() => {
      this.#recording.delete(p);
    });
    this.#recording.add(p);
  }

  /**
   * Until stopped, the poll interval has passed, or CLAIM_GATHER_MS after being woken (so that
   * one claim takes what several wakes announced).
   */
  #idle(lane: Lane): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer = setTimeout(done, lane.woken ? CLAIM_GATHER_MS : this.#o.delivery.pollIntervalMs);
      let gathering = lane.woken;
      const stopping = () => this.#stopping;
      function done() {
        clearTimeout(timer);
        lane.wakeUp = undefined;
        resolve();
      }
      lane.wakeUp = () => {
        if (stopping()) return done();
        if (gathering) return;
        gathering = true;
        clearTimeout(timer);
        timer = setTimeout(done, CLAIM_GATHER_MS);
      };
    });
  }

  async #deliver(lane: Lane, d: ClaimedDelivery): Promise<void> {
    const started = Date.now();
    const result = await lane.destination.send(d);
    const sent = this.#judge(lane, d, result, Date.now() - started);
    // A 410 disables the sink before the lane may claim again (see #run).
    if (!result.ok && result.disableSink) {
      const disabling = this.#disableSink(sent, result.error);
      lane.gone++;
      lane.disabling = disabling;
      await disabling;
      // What the lane holds is for the endpoint that answered Gone: due again once enabled.
      await this.#release(lane.queue.splice(0).map((q) => q.message));
      if (lane.disabling === disabling) lane.disabling = undefined;
    } else this.#queueOutcome(sent);
  }

  /** What becomes of a sent message: delivered, retried later on the lane's policy, or dead. */
  #judge(lane: Lane, d: ClaimedDelivery, result: SendResult, ms: number): Sent {
    const now = Date.now();
    const alertId = d.alert?.id;
    const line = {
      deliveryId: d.id,
      kind: d.kind,
      notificationId: d.source.notificationId,
      ...(alertId ? { alertId } : { eventId: result.messageId }),
      sink: lane.destination.name,
      attempt: d.attempt,
      ms,
      ageMs: now - d.createdAt,
    };
    const outcome = { id: d.id, leaseToken: d.leaseToken, alertId };
    if (result.ok) return { line, outcome, httpStatus: result.httpStatus };
    const failure = { error: result.error, httpStatus: result.httpStatus ?? null };
    if (result.disableSink)
      return {
        line,
        outcome: { ...outcome, failure: { ...failure, nextAttemptAt: now, dead: false } },
      };
    const { dead, delayMs } = nextRetry(d.attempt, lane.retry, result, this.#random);
    return {
      line,
      outcome: { ...outcome, failure: { ...failure, nextAttemptAt: now + delayMs, dead } },
    };
  }

  /** A 410: the sink disabled, then the message's attempt recorded (to be sent once enabled). */
  async #disableSink(sent: Sent, error: string): Promise<void> {
    const name = sent.line.sink;
    try {
      await this.#o.outbox.disableSink(name, error);
      await this.#o.outbox.record([sent.outcome]);
      this.#o.logger.error(
        { ...sent.line, ...failureFields(sent.outcome.failure), outcome: 'sink-disabled' },
        `sink disabled until an operator enables it (ctp-notify sinks enable ${name})`,
      );
      this.#count(sent, 'sink-disabled');
    } catch (error) {
      this.#recordFailed([sent], error);
    }
  }

  /** Records sent messages' outcomes in one write; never throws (the leases cover a lost record). */
  async #record(list: Sent[]): Promise<void> {
    let kept: boolean[];
    const outcomes = list.map((s) => s.outcome);
    try {
      kept = await this.#o.outbox.record(outcomes).catch(async () => {
        // Once more, shortly: the first statement on a connection PostgreSQL dropped fails, and
        // the outcomes of every lane would otherwise wait out their leases and be sent again.
        // Fenced by lease, so recording twice changes nothing.
        await new Promise((r) => setTimeout(r, RECORD_RETRY_MS));
        return this.#o.outbox.record(outcomes);
      });
    } catch (error) {
      return this.#recordFailed(list, error);
    }
    list.forEach((sent, i) => {
      const f = sent.outcome.failure;
      const leaseLost = !kept[i] || undefined;
      if (f === undefined) {
        this.#o.logger.info(
          { ...sent.line, outcome: 'delivered', httpStatus: sent.httpStatus, leaseLost },
          'delivered',
        );
        this.#count(sent, 'delivered');
        return;
      }
      if (f.dead)
        this.#o.logger.error(
          { ...sent.line, ...failureFields(f), outcome: 'dead', leaseLost },
          'delivery dead-lettered after its last attempt',
        );
      else
        this.#o.logger.warn(
          {
            ...sent.line,
            ...failureFields(f),
            outcome: 'retry',
            retryInMs: f.nextAttemptAt - Date.now(),
            leaseLost,
          },
          'delivery failed; will retry',
        );
      this.#count(sent, f.dead ? 'dead' : 'retry');
    });
  }

  /** The lease runs out and each message is claimed again: sent twice at worst, never lost. */
  #recordFailed(list: readonly Sent[], error: unknown): void {
    for (const sent of list)
      this.#o.logger.error(
        { ...sent.line, code: 'STORAGE_UNAVAILABLE', errType: errType(error) },
        'cannot record delivery outcome',
      );
  }

  #count(sent: Sent, outcome: DeliveryOutcome['outcome']): void {
    const error = sent.outcome.failure?.error;
    this.#o.onOutcome?.({
      sink: sent.line.sink,
      outcome,
      attempt: sent.line.attempt,
      ageMs: sent.line.ageMs,
      ...(error ? { error } : {}),
    });
  }
}

/** A sent message: its log fields and the outcome to record. */
interface Sent {
  line: {
    deliveryId: string;
    kind: ClaimedDelivery['kind'];
    notificationId: string;
    sink: string;
    attempt: number;
    ms: number;
    ageMs: number;
  };
  outcome: OutboxOutcome;
  httpStatus?: number | undefined;
}

const failureFields = (f: OutboxOutcome['failure']) =>
  f ? { error: f.error, httpStatus: f.httpStatus } : {};

function errType(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
