import { type Static, Type } from '@sinclair/typebox';
import { FilePath } from './file-path.js';
import { SecretRef } from './secret-ref.js';

/**
 * Sink and delivery-worker parts of the one configuration schema (`config-schema.ts` imports
 * them as the top-level keys `sinks` and `delivery`). Kept apart only to keep that file short.
 */

/** Per-sink retry policy: exponential backoff with jitter, then dead letter. */
const RetrySchema = Type.Object(
  {
    /** Delay before the second attempt; doubles per attempt. */
    initialDelayMs: Type.Integer({ minimum: 1, default: 1000 }),
    /** Upper bound on any one delay, including a receiver's Retry-After. */
    maxDelayMs: Type.Integer({ minimum: 1, default: 3_600_000 }),
    /**
     * Attempts before the delivery is dead-lettered (12 with the defaults: 11 waits, 17 to 34
     * minutes in all).
     */
    maxAttempts: Type.Integer({ minimum: 1, maximum: 1000, default: 12 }),
  },
  { additionalProperties: false, default: {} },
);

/** Lower-case names: they appear in logs, metrics labels, CLI flags and the database. */
const SinkName = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' });

const common = {
  name: SinkName,
  /**
   * Put the full card number in this sink's events (`card.pan`): that sink is then in PCI DSS
   * scope.
   */
  includePan: Type.Boolean({ default: false }),
  /** Deliveries in flight at once for this sink. */
  concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 8 }),
  /** Per attempt: HTTP request, or AMQP connect + publisher confirm. */
  timeoutMs: Type.Integer({ minimum: 100, maximum: 300_000, default: 10_000 }),
  retry: RetrySchema,
};

export const WebhookSinkSchema = Type.Object(
  {
    ...common,
    type: Type.Literal('webhook'),
    url: Type.String({ pattern: '^https?://' }),
    /**
     * Standard Webhooks secrets (`whsec_` + base64, 24–64 bytes), by file or environment
     * variable; each may hold several, one per line or space-separated. Every secret signs each
     * delivery, so a receiver can rotate.
     */
    secrets: Type.Array(SecretRef, { minItems: 1 }),
    /**
     * PEM bundle of CAs to trust for an https URL (e.g. the bank's internal CA); default: Node's.
     */
    caFile: Type.Optional(FilePath()),
  },
  { additionalProperties: false },
);

export const RabbitMqSinkSchema = Type.Object(
  {
    ...common,
    type: Type.Literal('rabbitmq'),
    url: Type.String({ pattern: '^amqps?://' }),
    /** Durable topic exchange, declared if missing; routing key = event type. */
    exchange: Type.String({ minLength: 1, maxLength: 255, default: 'ctp-notify' }),
    /** Broker password, replacing any in `url`: from a file or an environment variable. */
    password: Type.Optional(SecretRef),
    /**
     * Publish with `mandatory`: a message no queue is bound for comes back and the delivery is
     * retried (then dead-lettered) rather than dropped by the broker in silence.
     */
    mandatory: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);

export const SinksSchema = Type.Array(Type.Union([WebhookSinkSchema, RabbitMqSinkSchema]), {
  default: [],
});

export const DeliverySchema = Type.Object(
  {
    /**
     * Run the delivery worker inside `serve` (in the single process, or in the cluster primary
     * with `--workers N`). Set false when workers run apart (`ctp-notify worker`).
     */
    runInServe: Type.Boolean({ default: true }),
    /** How often an idle worker looks for due deliveries it was not woken for. */
    pollIntervalMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 500 }),
    /**
     * A claimed delivery's lease; another worker may take it over once it expires. Must exceed
     * every sink's timeoutMs.
     */
    leaseMs: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 60_000 }),
  },
  { additionalProperties: false, default: {} },
);

export type SinkConfig = Static<typeof WebhookSinkSchema> | Static<typeof RabbitMqSinkSchema>;
export type WebhookSinkConfig = Static<typeof WebhookSinkSchema>;
export type RabbitMqSinkConfig = Static<typeof RabbitMqSinkSchema>;
export type RetryConfig = Static<typeof RetrySchema>;
export type DeliveryConfig = Static<typeof DeliverySchema>;
