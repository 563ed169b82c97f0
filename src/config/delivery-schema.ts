import { type Static, Type } from '@sinclair/typebox';
import { FilePath } from './file-path.js';
import { SecretRef } from './secret-ref.js';

/**
 * Sink and delivery-worker parts of the one configuration schema (`config-schema.ts` imports
 * them as the top-level keys `sinks` and `delivery`). Kept apart only to keep that file short.
 */

const RetrySchema = Type.Object(
  {
    initialDelayMs: Type.Integer({
      minimum: 1,
      default: 1000,
      description:
        'Delay before the second attempt; doubles per attempt. Must not exceed `maxDelayMs`.',
    }),
    maxDelayMs: Type.Integer({
      minimum: 1,
      default: 3_600_000,
      description: "Upper bound on any one delay, including a receiver's Retry-After.",
    }),
    maxAttempts: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 12,
      description:
        'Attempts before the delivery is dead-lettered (12 with the defaults: 11 waits, 17 to 34 minutes in all).',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Retry policy: exponential backoff with jitter, then dead letter.',
  },
);

const common = {
  name: Type.String({
    pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
    description:
      'Unique lower-case name: it appears in logs, metrics labels, CLI flags and the database.',
  }),
  includePan: Type.Boolean({
    default: false,
    description:
      "Put the full card number in this sink's events (`card.pan`): that sink is then in PCI DSS scope, and its " +
      '`url` must be `https://` or `amqps://` (PCI DSS 4.2.1; refused at start otherwise).',
  }),
  concurrency: Type.Integer({
    minimum: 1,
    maximum: 256,
    default: 8,
    description: 'Deliveries in flight at once for this sink.',
  }),
  timeoutMs: Type.Integer({
    minimum: 100,
    maximum: 300_000,
    default: 10_000,
    description:
      'Per attempt: HTTP request, or AMQP connect + publisher confirm. Must be shorter than `delivery.leaseMs`.',
  }),
  retry: RetrySchema,
};

export const WebhookSinkSchema = Type.Object(
  {
    ...common,
    type: Type.Literal('webhook', { description: 'An HTTP POST signed per Standard Webhooks.' }),
    url: Type.String({
      pattern: '^https?://',
      description: '`https://…` (or `http://` on a trusted network, never with `includePan`).',
    }),
    secrets: Type.Array(SecretRef(), {
      minItems: 1,
      description:
        'Standard Webhooks secrets (`whsec_` + base64 of 24–64 bytes); each reference may hold several, one per ' +
        'line or space-separated. Every secret signs each delivery, so a receiver can rotate.',
    }),
    caFile: Type.Optional(
      FilePath({
        description:
          "PEM bundle of CAs to trust for an https URL (e.g. the bank's internal CA); default: Node's.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const RabbitMqSinkSchema = Type.Object(
  {
    ...common,
    type: Type.Literal('rabbitmq', {
      description: 'A persistent message on a RabbitMQ confirm channel.',
    }),
    url: Type.String({
      pattern: '^amqps?://',
      description: 'The broker: `amqps://…` (or `amqp://…`, never with `includePan`).',
    }),
    exchange: Type.String({
      minLength: 1,
      maxLength: 255,
      default: 'ctp-notify',
      description: 'Durable topic exchange, declared if missing; routing key = event type.',
    }),
    password: Type.Optional(SecretRef({ description: 'Broker password, replacing any in `url`.' })),
    mandatory: Type.Boolean({
      default: true,
      description:
        'Publish with `mandatory`: a message no queue is bound for comes back and the delivery is retried (then ' +
        'dead-lettered) rather than dropped by the broker in silence.',
    }),
  },
  { additionalProperties: false },
);

export const SinksSchema = Type.Array(Type.Union([WebhookSinkSchema, RabbitMqSinkSchema]), {
  default: [],
  description:
    'Where each accepted notification is delivered as an event; every sink gets every event.',
});

export const DeliverySchema = Type.Object(
  {
    runInServe: Type.Boolean({
      default: true,
      description:
        'Run the delivery worker inside `serve` (in the single process, or in the cluster primary with ' +
        '`--workers N`). Set false when workers run apart (`ctp-notify worker`).',
    }),
    pollIntervalMs: Type.Integer({
      minimum: 10,
      maximum: 60_000,
      default: 500,
      description: 'How often an idle worker looks for due deliveries it was not woken for.',
    }),
    leaseMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 60_000,
      description:
        "A claimed delivery's lease; another worker may take it over once it expires. Must exceed every sink's " +
        '`timeoutMs`.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'The delivery worker that drains the outbox into the sinks.',
  },
);

export type SinkConfig = Static<typeof WebhookSinkSchema> | Static<typeof RabbitMqSinkSchema>;
export type WebhookSinkConfig = Static<typeof WebhookSinkSchema>;
export type RabbitMqSinkConfig = Static<typeof RabbitMqSinkSchema>;

export type DeliveryConfig = Static<typeof DeliverySchema>;
