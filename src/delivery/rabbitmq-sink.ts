import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from '../logger.js';
import type { DeliveryResult, OutgoingEvent, Sink } from './sink.js';

export interface RabbitMqSinkOptions {
  name: string;
  /** amqp(s)://… with credentials already in place (see load-sink-secrets). */
  url: string;
  exchange: string;
  mandatory: boolean;
  timeoutMs: number;
  includePan: boolean;
  logger?: Logger | undefined;
}

/**
 * Publishes each event to a durable topic exchange with routing key = event type, as a
 * persistent message, on a confirm channel: a delivery is done only when the broker has
 * confirmed it (https://www.rabbitmq.com/docs/confirms), which for a persistent message routed
 * to durable queues means written to disk. The connection is opened on first use and again on
 * the next attempt after the broker goes away; meanwhile failed attempts wait in the outbox.
 */
export class RabbitMqSink implements Sink {
  readonly type = 'rabbitmq' as const;
  readonly name: string;
  readonly includePan: boolean;
  readonly #o: RabbitMqSinkOptions;
  #model: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #opening: Promise<ConfirmChannel> | undefined;
  #closed = false;
  /**
   * message-ids the broker returned as unroutable, until their confirm arrives (return comes
   * first).
   */
  readonly #returned = new Set<string>();

  constructor(o: RabbitMqSinkOptions) {
    this.#o = o;
    this.name = o.name;
    this.includePan = o.includePan;
  }

  async deliver(event: OutgoingEvent): Promise<DeliveryResult> {
    let channel: ConfirmChannel;
    try {
      channel = await this.#ensureChannel();
    } catch (error) {
      this.#o.logger?.warn(
        { sink: this.name, code: amqpErrorCode(error) },
        'rabbitmq connect failed',
      );
      return { ok: false, error: 'AMQP_CONNECT' };
    }
    return new Promise<DeliveryResult>((resolve) => {
      let settled = false;
      const settle = (r: DeliveryResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      // No confirm in time: the channel is suspect; drop it so the next attempt starts afresh.
      const timer = setTimeout(() => {
        settle({ ok: false, error: 'TIMEOUT' });
        this.#reset(channel);
      }, this.#o.timeoutMs);
      try {
        channel.publish(
          this.#o.exchange,
          event.type,
          event.body,
          {
            persistent: true,
            mandatory: this.#o.mandatory,
            contentType: 'application/json',
            messageId: event.id,
            type: event.type,
            appId: 'ctp-notify',
            timestamp: Math.floor(Date.now() / 1000),
          },
          (err: unknown) => {
            const returned = this.#returned.delete(event.id);
            if (err) settle({ ok: false, error: 'AMQP_NACK' });
            else if (returned) settle({ ok: false, error: 'AMQP_UNROUTABLE' });
            else settle({ ok: true });
          },
        );
      } catch {
        // Channel closed under us (IllegalOperationError).
        settle({ ok: false, error: 'AMQP_CHANNEL_CLOSED' });
        this.#reset(channel);
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const model = this.#model;
    this.#model = undefined;
    this.#channel = undefined;
    await model?.close().catch(() => {});
  }

  #ensureChannel(): Promise<ConfirmChannel> {
    if (this.#channel) return Promise.resolve(this.#channel);
    if (this.#closed) return Promise.reject(new Error('sink closed'));
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<ConfirmChannel> {
    const model = await amqp.connect(this.#o.url, {
      timeout: this.#o.timeoutMs,
      clientProperties: { connection_name: `ctp-notify sink ${this.name}` },
    });
    try {
      model.on('error', () => {}); // 'close' follows; handled there
      model.on('close', () => this.#lost(model));
      const channel = await model.createConfirmChannel();
      channel.on('error', () => {}); // e.g. a 404/406 channel error; 'close' follows
      channel.on('close', () => this.#reset(channel));
      channel.on('return', (msg: { properties: { messageId?: unknown } }) => {
        if (typeof msg.properties.messageId === 'string')
          this.#returned.add(msg.properties.messageId);
      });
      await channel.assertExchange(this.#o.exchange, 'topic', { durable: true });
      if (this.#closed) throw new Error('sink closed');
      this.#model = model;
      this.#channel = channel;
      this.#o.logger?.info({ sink: this.name }, 'rabbitmq connected');
      return channel;
    } catch (error) {
      await model.close().catch(() => {});
      throw error;
    }
  }

  #lost(model: ChannelModel): void {
    if (this.#model !== model) return;
    this.#model = undefined;
    this.#channel = undefined;
    if (!this.#closed)
      this.#o.logger?.warn(
        { sink: this.name },
        'rabbitmq connection lost; reconnecting on the next attempt',
      );
  }

  /**
   * Forgets a channel that closed or misbehaved, and its connection: one connection carries one
   * channel here, and starting clean on the next attempt is simpler than repairing.
   */
  #reset(channel: ConfirmChannel): void {
    if (this.#channel !== channel) return;
    const model = this.#model;
    this.#channel = undefined;
    this.#model = undefined;
    void model?.close().catch(() => {});
  }
}

function amqpErrorCode(error: unknown): string {
  const e = error as { code?: unknown } | null;
  return typeof e?.code === 'string' || typeof e?.code === 'number' ? String(e.code) : 'ERROR';
}
