import { hostname } from 'node:os';
import type { DeliveryConfig } from '../config/delivery-schema.js';
import type { Logger } from '../logger.js';
import {
  ALERT_DESTINATION,
  type ClaimedDelivery,
  type OutboxStore,
} from '../storage/outbox-store.js';
import type { Destination, SendResult } from './destination.js';
import { nextRetry, type RetryPolicy } from './retry-policy.js';

/** One destination of the worker, with its retry policy and how many it sends at once. */
export interface WorkerLane {
  destination: Destination;
  retry: RetryPolicy;
  concurrency: number;
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
  inflight: Set<Promise<void>>;
  woken: boolean;
  wakeUp: (() => void) | undefined;
  /** Outcomes of sent deliveries not yet recorded (see OUTCOME_LINGER_MS). */
  outcomes: (() => Promise<void>)[];
  outcomeTimer: NodeJS.Timeout | undefined;
  recording: Set<Promise<void>>;
  /** A 410's record (the sink disabled), which the lane's next claim waits for. */
  disabling: Promise<void> | undefined;
}

/**
 * How long a sent delivery's outcome may wait to be recorded with others (or with the lane's
 * next claim, which records whatever is waiting first): one write for several outcomes instead
 * of one each; on SQLite a commit costs more than the delivery's own statements. The delivery
 * stays leased meanwhile, so nothing else sends it.
 */
export const OUTCOME_LINGER_MS = 5;

/**
 * How long an idle lane, once woken, waits before it claims: a claim is a write transaction
 * and a scan of due rows, and under load wakes come with every group commit.
 */
export const CLAIM_GATHER_MS = 10;

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

  constructor(o: DeliveryWorkerOptions) {
    this.#o = o;
    this.#workerId = o.workerId ?? `${hostname()}:${process.pid}`;
    this.#random = o.random ?? Math.random;
    this.#lanes = o.lanes.map((s) => ({
      ...s,
      inflight: new Set(),
      woken: false,
      wakeUp: undefined,
      outcomes: [],
      outcomeTimer: undefined,
      recording: new Set(),
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
    while (!this.#stopping) {
      const free = lane.concurrency - lane.inflight.size;
      // Under load, claim once half the slots are free rather than once per finished delivery:
      // each claim is a write transaction and a scan of due rows.
      if (free <= 0 || (lane.inflight.size > 0 && free < Math.ceil(lane.concurrency / 2))) {
        await Promise.race(lane.inflight);
        continue;
      }
      lane.woken = false;
      // No claim while a 410 is being recorded: on PostgreSQL it could run before the sink is
      // disabled, and send more to the endpoint that answered Gone.
      if (lane.disabling) await lane.disabling;
      // The outcomes waiting are written in the claim's turn: one group commit for both.
      this.#recordOutcomes(lane);
      let claimed: ClaimedDelivery[];
      try {
        claimed = await this.#o.outbox.claim({
          sink: lane.destination.name,
          limit: free,
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
      for (const d of claimed) {
        const p: Promise<void> = this.#deliver(lane, d).finally(() => lane.inflight.delete(p));
        lane.inflight.add(p);
      }
      if (claimed.length < free) await this.#idle(lane);
    }
    await Promise.all(lane.inflight);
    this.#recordOutcomes(lane);
    await Promise.all(lane.recording);
  }

  /** Queues a sent delivery's outcome to be recorded within OUTCOME_LINGER_MS. */
  #queueOutcome(lane: Lane, record: () => Promise<void>): void {
    lane.outcomes.push(record);
    lane.outcomeTimer ??= setTimeout(() => this.#recordOutcomes(lane), OUTCOME_LINGER_MS);
  }

  /** Records every waiting outcome, all started in this turn. */
  #recordOutcomes(lane: Lane): void {
    clearTimeout(lane.outcomeTimer);
    lane.outcomeTimer = undefined;
    if (lane.outcomes.length === 0) return;
    const list = lane.outcomes;
    lane.outcomes = [];
    const p: Promise<void> = Promise.all(list.map((record) => record())).then(() => {
      lane.recording.delete(p);
    });
    lane.recording.add(p);
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
    const ms = Date.now() - started;
    // A 410 disables the sink before the lane may claim again (see #run).
    if (!result.ok && result.disableSink) {
      const disabling = this.#record(lane, d, result, ms);
      lane.disabling = disabling;
      await disabling;
      if (lane.disabling === disabling) lane.disabling = undefined;
    } else this.#queueOutcome(lane, () => this.#record(lane, d, result, ms));
  }

  /** Records a sent message's outcome; never throws (the lease covers a lost record). */
  async #record(lane: Lane, d: ClaimedDelivery, result: SendResult, ms: number): Promise<void> {
    const { retry } = lane;
    const name = lane.destination.name;
    const alertId = d.alert?.id;
    const now = Date.now();
    const line = {
      deliveryId: d.id,
      kind: d.kind,
      notificationId: d.source.notificationId,
      ...(alertId ? { alertId } : { eventId: result.messageId }),
      sink: name,
      attempt: d.attempt,
      ms,
      ageMs: now - d.createdAt,
    };
    const outcome = (o: DeliveryOutcome['outcome'], error?: string) =>
      this.#o.onOutcome?.({
        sink: name,
        outcome: o,
        attempt: d.attempt,
        ageMs: line.ageMs,
        ...(error ? { error } : {}),
      });
    try {
      if (result.ok) {
        const kept = await this.#o.outbox.complete(d.id, d.leaseToken, alertId);
        this.#o.logger.info(
          {
            ...line,
            outcome: 'delivered',
            httpStatus: result.httpStatus,
            leaseLost: !kept || undefined,
          },
          'delivered',
        );
        return outcome('delivered');
      }
      const failure = { error: result.error, httpStatus: result.httpStatus ?? null };
      if (result.disableSink) {
        await this.#o.outbox.disableSink(name, result.error);
        await this.#o.outbox.fail(d.id, d.leaseToken, {
          ...failure,
          nextAttemptAt: now,
          dead: false,
        });
        this.#o.logger.error(
          { ...line, ...failure, outcome: 'sink-disabled' },
          `sink disabled until an operator enables it (ctp-notify sinks enable ${name})`,
        );
        return outcome('sink-disabled', result.error);
      }
      const { dead, delayMs } = nextRetry(d.attempt, retry, result, this.#random);
      const nextAttemptAt = now + delayMs;
      await this.#o.outbox.fail(d.id, d.leaseToken, { ...failure, nextAttemptAt, dead }, alertId);
      if (dead)
        this.#o.logger.error(
          { ...line, ...failure, outcome: 'dead' },
          'delivery dead-lettered after its last attempt',
        );
      else
        this.#o.logger.warn(
          { ...line, ...failure, outcome: 'retry', retryInMs: nextAttemptAt - now },
          'delivery failed; will retry',
        );
      return outcome(dead ? 'dead' : 'retry', result.error);
    } catch (error) {
      // The lease runs out and the message is claimed again: sent twice at worst, never lost.
      this.#o.logger.error(
        { ...line, code: 'STORAGE_UNAVAILABLE', errType: errType(error) },
        'cannot record delivery outcome',
      );
    }
  }
}

function errType(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
