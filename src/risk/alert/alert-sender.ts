import type { Config } from '../../config/config-schema.js';
import { OUTCOME_LINGER_MS } from '../../delivery/delivery-worker.js';
import { nextRetry } from '../../delivery/retry-policy.js';
import type { Logger } from '../../logger.js';
import type { DataProtector } from '../../protect/data-protector.js';
import type { AlertStore, ClaimedAlert } from '../../storage/risk-store.js';
import { type AlertRecipient, AlertSendError, type AlertSink } from './alert-sink.js';
import { alertLanguage, renderAlert } from './alert-templates.js';

type AlertConfig = NonNullable<Config['risk']['alert']>;

/** Alerts claimed per pass of the outbox. */
export const ALERT_BATCH = 16;

type Outcome = { sent: true; language: string } | { sent: false; error: AlertSendError };

export interface AlertSenderOptions {
  store: AlertStore;
  sink: AlertSink;
  dataProtector: DataProtector;
  config: AlertConfig;
  logger: Logger;
  /** Idle poll period. Default 1000 ms. */
  pollMs?: number;
  /** Lease on a claimed alert: another sender retries it after this. Default 60 s. */
  leaseMs?: number;
  now?: () => number;
  random?: () => number;
}

/**
 * Sends the alert outbox: claims due alerts, renders each in the cardholder's language, hands
 * it to the sink, then marks it sent; on failure retries on the shared retry policy
 * (`delivery/retry-policy.ts`: backoff with jitter, Retry-After capped at `retry.maxDelayMs`)
 * up to `retry.maxAttempts`, then marks it dead. At least once: a
 * sender that dies mid-send leaves the lease to expire and the alert is sent again.
 */
export class AlertSender {
  readonly #o: AlertSenderOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;

  constructor(o: AlertSenderOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  start(): void {
    this.#stopped = false;
    this.kick();
  }

  /** Runs a pass now (after an assessment queued an alert). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.runOnce()
      .then(() => undefined)
      .catch((error: unknown) =>
        this.#o.logger.error(
          { errType: error instanceof Error ? error.name : typeof error },
          'alert pass failed',
        ),
      )
      .finally(() => {
        this.#running = undefined;
        if (this.#stopped) return;
        if (this.#again) {
          this.#again = false;
          this.kick();
        } else this.#timer = setTimeout(() => this.kick(), this.#o.pollMs ?? 1000).unref();
      });
  }

  /**
   * One pass over due alerts; resolves with how many were handled. Alerts are claimed in batches
   * (up to ALERT_BATCH, and no more than `sink.concurrency` lanes can send well within the
   * lease: `sink.timeoutMs` twice per alert) and sent `sink.concurrency` at once. Each outcome is
   * recorded within OUTCOME_LINGER_MS of its send, with the others that finished meanwhile, and
   * the last ones in the turn of the next claim: one write for several (on SQLite one group
   * commit) instead of one each.
   */
  async runOnce(): Promise<number> {
    const { sink, config, logger } = this.#o;
    const leaseMs = this.#o.leaseMs ?? 60_000;
    const limit = Math.min(
      ALERT_BATCH,
      sink.concurrency * Math.max(1, Math.floor(leaseMs / (2 * config.sink.timeoutMs))),
    );
    const recording = new Set<Promise<void>>();
    let waiting: (() => Promise<void>)[] = [];
    let timer: NodeJS.Timeout | undefined;
    const record = () => {
      clearTimeout(timer);
      timer = undefined;
      if (waiting.length === 0) return;
      const list = waiting;
      waiting = [];
      const p: Promise<void> = Promise.allSettled(list.map((r) => r())).then((results) => {
        recording.delete(p);
        for (const r of results)
          if (r.status === 'rejected')
            // The lease runs out and the alert is claimed again: sent twice at worst.
            logger.error(
              { code: 'STORAGE_UNAVAILABLE', errType: errType(r.reason) },
              'cannot record alert outcome',
            );
      });
      recording.add(p);
    };
    let handled = 0;
    try {
      for (;;) {
        record();
        const batch = await this.#o.store.claim(this.#now(), limit, leaseMs);
        if (batch.length === 0) return handled;
        let next = 0;
        const lane = async () => {
          for (let i = next++; i < batch.length; i = next++) {
            const a = batch[i]!;
            const outcome = await this.#send(a);
            waiting.push(() => this.#record(a, outcome));
            timer ??= setTimeout(record, OUTCOME_LINGER_MS);
          }
        };
        await Promise.all(Array.from({ length: Math.min(sink.concurrency, batch.length) }, lane));
        handled += batch.length;
        // A short batch took every due alert: the next pass (kicked by the next assessment
        // that queues one, or the poll) claims again.
        if (batch.length < limit) return handled;
      }
    } finally {
      record();
      await Promise.all(recording);
    }
  }

  /** Renders and sends one alert; never throws (a failure is an outcome). */
  async #send(a: ClaimedAlert): Promise<Outcome> {
    const { config, sink } = this.#o;
    try {
      if (a.recipientCiphertext === null || a.dataKeyId === null)
        throw new AlertSendError('NO_RECIPIENT', true);
      const recipient = JSON.parse(
        this.#o.dataProtector.decrypt(a.dataKeyId, a.recipientCiphertext, a.id).toString('utf8'),
      ) as AlertRecipient;
      const language = alertLanguage(a.language, config.defaultLanguage);
      const message = renderAlert(language, {
        firstName: recipient.firstName,
        last4: a.panLast4,
        receivedAt: a.receivedAt,
        level: a.level,
        bankName: config.bankName,
        helpContact: config.helpContact,
        timeZone: config.timeZone,
      });
      await sink.send({
        id: a.id,
        notificationId: a.notificationId,
        cardFingerprint: a.cardFingerprint,
        last4: a.panLast4,
        level: a.level,
        receivedAt: a.receivedAt,
        message,
        recipient,
      });
      return { sent: true, language };
    } catch (error) {
      return {
        sent: false,
        error: error instanceof AlertSendError ? error : new AlertSendError('ALERT_FAILED'),
      };
    }
  }

  async #record(a: ClaimedAlert, o: Outcome): Promise<void> {
    const { config, logger, sink, store } = this.#o;
    if (o.sent) {
      await store.markSent(a.id, this.#now());
      logger.info(
        {
          alertId: a.id,
          notificationId: a.notificationId,
          sink: sink.type,
          language: o.language,
          attempts: a.attempts,
        },
        'cardholder alert sent',
      );
      return;
    }
    const { dead, delayMs } = nextRetry(a.attempts, config.retry, o.error, this.#o.random);
    await store.markFailed(a.id, dead ? null : this.#now() + delayMs, o.error.code);
    logger.warn(
      {
        alertId: a.id,
        notificationId: a.notificationId,
        code: o.error.code,
        attempts: a.attempts,
        dead,
      },
      'cardholder alert not sent',
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}

function errType(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
