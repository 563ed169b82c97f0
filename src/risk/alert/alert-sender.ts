import type { Config } from '../../config/config-schema.js';
import { nextRetry } from '../../delivery/retry-policy.js';
import type { Logger } from '../../logger.js';
import type { DataProtector } from '../../protect/data-protector.js';
import type { AlertStore, ClaimedAlert } from '../../storage/risk-store.js';
import { type AlertRecipient, AlertSendError, type AlertSink } from './alert-sink.js';
import { alertLanguage, renderAlert } from './alert-templates.js';

type AlertConfig = NonNullable<Config['risk']['alert']>;

/** Alerts claimed per pass of the outbox. */
export const ALERT_BATCH = 32;

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
   * One pass over due alerts; resolves with how many were handled. Alerts are claimed
   * ALERT_BATCH at a time and sent `sink.concurrency` at once; the batch's outcomes are then
   * recorded together, so they share one write (on SQLite, one group commit instead of one
   * commit per alert).
   */
  async runOnce(): Promise<number> {
    let handled = 0;
    let recorded: Promise<unknown> = Promise.resolve();
    try {
      for (;;) {
        // The previous batch's outcomes were queued in this same turn: one write for both.
        const batch = await this.#o.store.claim(
          this.#now(),
          ALERT_BATCH,
          this.#o.leaseMs ?? 60_000,
        );
        await recorded;
        if (batch.length === 0) return handled;
        const outcomes = new Array<Outcome>(batch.length);
        let next = 0;
        const lane = async () => {
          for (let i = next++; i < batch.length; i = next++)
            outcomes[i] = await this.#send(batch[i]!);
        };
        await Promise.all(
          Array.from({ length: Math.min(this.#o.sink.concurrency, batch.length) }, lane),
        );
        recorded = Promise.all(batch.map((a, i) => this.#record(a, outcomes[i]!)));
        handled += batch.length;
        // A short batch took every due alert: the next pass (kicked by the next assessment
        // that queues one, or the poll) claims again.
        if (batch.length < ALERT_BATCH) return handled;
      }
    } finally {
      await recorded;
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
