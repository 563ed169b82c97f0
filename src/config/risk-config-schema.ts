import { Type } from '@sinclair/typebox';
import { RISK_CODES, RISK_LEVELS } from '../domain/risk-codes.js';
import { literalUnion } from '../util/literal-union.js';
import { FilePath } from './file-path.js';
import { SecretRef } from './secret-ref.js';

const RuleSetting = Type.Object(
  {
    weight: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: 'Points the code adds, replacing its default weight.',
      }),
    ),
    mode: Type.Optional(
      literalUnion(['active', 'shadow', 'off'] as const, {
        description:
          '"active" (when absent) counts; "shadow" scores and logs without counting; "off" drops the code.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Override for one risk code.' },
);

const Retry = Type.Object(
  {
    initialDelayMs: Type.Integer({
      minimum: 10,
      default: 1000,
      description: 'Delay before the second attempt; doubles per attempt.',
    }),
    maxDelayMs: Type.Integer({
      minimum: 10,
      default: 3_600_000,
      description: "Upper bound on any one delay, including a receiver's Retry-After.",
    }),
    maxAttempts: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 12,
      description: 'Attempts before the alert is dead.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Retry policy: exponential backoff with jitter, then dead.',
  },
);

const EmailSink = Type.Object(
  {
    type: Type.Literal('email', {
      description:
        "SMTP through the bank's relay, to the first email on file; a 5xx reply is final, anything else is retried.",
    }),
    host: Type.String({ minLength: 1, description: 'The SMTP server (relay).' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 587, description: 'The SMTP port.' }),
    secure: Type.Boolean({
      default: false,
      description: 'TLS from the first byte (port 465); otherwise STARTTLS.',
    }),
    requireTls: Type.Boolean({
      default: true,
      description: 'Refuse to send without STARTTLS. Default true: alerts name the cardholder.',
    }),
    ca: Type.Optional(
      FilePath({
        description: "CA certificate file to trust for the SMTP server (default: the system's).",
      }),
    ),
    user: Type.Optional(
      Type.String({ minLength: 1, description: 'SMTP user name. Absent: no authentication.' }),
    ),
    password: Type.Optional(SecretRef({ description: 'SMTP password (with `user`).' })),
    from: Type.String({ minLength: 3, description: "The From header: the bank's sender address." }),
    timeoutMs: Type.Integer({
      minimum: 100,
      default: 15000,
      description: 'Connection, greeting and socket timeout.',
    }),
  },
  { additionalProperties: false },
);

const WebhookSink = Type.Object(
  {
    type: Type.Literal('webhook', {
      description:
        "The bank's messaging system, which picks the channel: a POST signed per Standard Webhooks; other 4xx " +
        'than 408 and 429 are final.',
    }),
    url: Type.String({ pattern: '^https?://', description: "The messaging system's URL." }),
    secrets: Type.Array(SecretRef(), {
      minItems: 1,
      description:
        'Standard Webhooks secrets (`whsec_` + base64); several sign at once (rotation).',
    }),
    timeoutMs: Type.Integer({ minimum: 100, default: 10000, description: 'Per attempt.' }),
  },
  { additionalProperties: false },
);

/** The `risk` section of the configuration schema (its descriptions document it). */
export const RiskConfig = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Assess each accepted notification; false: no assessment and no alerts.',
    }),
    defaultCountry: Type.Optional(
      Type.String({
        pattern: '^[A-Z]{2}$',
        description:
          'ISO 3166 alpha-2 country for national phone numbers (e.g. "GB"); absent: only +… and 00… numbers parse.',
      }),
    ),
    levels: Type.Object(
      {
        medium: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 30,
          description: 'Lowest score of level "medium"; below `high`.',
        }),
        high: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 70,
          description: 'Lowest score of level "high".',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Score thresholds of the levels; below `medium`: "low".',
      },
    ),
    rules: Type.Partial(
      Type.Object(
        Object.fromEntries(RISK_CODES.map((c) => [c, RuleSetting])) as Record<
          (typeof RISK_CODES)[number],
          typeof RuleSetting
        >,
      ),
      {
        additionalProperties: false,
        default: {},
        description: 'Per-code overrides, keyed by risk code.',
      },
    ),
    name: Type.Object(
      {
        matchAt: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.8,
          description: 'Similarity at or above which names match (no reason).',
        }),
        weakAt: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.6,
          description:
            'Below `matchAt` and at or above this: NAME_WEAK_MATCH; below: NAME_MISMATCH. At most `matchAt`.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: "Comparison of the enroller's name with the cardholder's.",
      },
    ),
    velocity: Type.Object(
      {
        max24h: Type.Integer({
          minimum: 1,
          default: 3,
          description: 'More attempts on a card within 24 hours: VELOCITY_24H.',
        }),
        max7d: Type.Integer({
          minimum: 1,
          default: 5,
          description: 'More attempts on a card within 7 days: VELOCITY_7D.',
        }),
        maxEnrollers7d: Type.Integer({
          minimum: 1,
          default: 1,
          description:
            'More distinct enrollers on a card within 7 days: MANY_ENROLLERS (attempts sharing an email or a phone ' +
            'are one enroller).',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Attempt counts per card.' },
    ),
    ring: Type.Object(
      {
        maxCards: Type.Integer({
          minimum: 1,
          default: 2,
          description:
            'An enroller email or phone on more cards than this within `windowDays`: ENROLLER_RING.',
        }),
        windowDays: Type.Integer({
          minimum: 1,
          maximum: 365,
          default: 30,
          description: 'The ring window.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          "One enroller contact across many cards (not counting cards where it is the card's own).",
      },
    ),
    binRanges: Type.Optional(
      Type.Array(Type.String({ pattern: '^[0-9]{1,11}(-[0-9]{1,11})?$' }), {
        minItems: 1,
        description:
          'The bank\'s BIN ranges, for BIN_OUT_OF_RANGE: "412345" (a prefix) or "41234500-41234599" (bounds of ' +
          'equal length, low first). Absent: rule off.',
      }),
    ),
    deliveryWaitSeconds: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 30,
      description:
        'Deliveries of an accepted notification wait for its assessment (so the event carries `risk`), but no ' +
        'longer than this after it arrived; then they go without it.',
    }),
    sweep: Type.Object(
      {
        intervalSeconds: Type.Integer({
          minimum: 1,
          default: 30,
          description: 'How often unassessed notifications are looked for (also once at start).',
        }),
        graceSeconds: Type.Integer({
          minimum: 0,
          default: 10,
          description:
            "Only notifications this old are swept: younger ones may still sit in another process's queue.",
        }),
        horizonHours: Type.Integer({
          minimum: 1,
          default: 72,
          description: 'How far back the sweep looks.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'The sweep that assesses notifications left unassessed (a crash, another process).',
      },
    ),
    cases: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            'Open fraud cases for analysts (and accept cardholder answers); false: no cases are opened.',
        }),
        minLevel: literalUnion(RISK_LEVELS, {
          default: 'high',
          description:
            'Lowest level that opens a case; later attempts on the card join the open case whatever their level.',
        }),
        slaHours: Type.Integer({
          minimum: 1,
          maximum: 24 * 90,
          default: 24,
          description: 'A case still open this many hours after it opened is flagged overdue.',
        }),
        closeOnRecognised: Type.Boolean({
          default: false,
          description:
            'A cardholder answering "recognised" closes the case as legitimate; false: the answer is recorded and an analyst closes it.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'Fraud cases: an assessment at or above `minLevel`, or a cardholder\'s "not recognised", opens one per card.',
      },
    ),
    alert: Type.Optional(
      Type.Object(
        {
          minLevel: literalUnion(RISK_LEVELS, {
            default: 'low',
            description:
              'Lowest level that alerts the cardholder; "low" = every attempt, worded by level.',
          }),
          windowSeconds: Type.Integer({
            minimum: 0,
            default: 3600,
            description:
              'At most one alert per card within this window; the others are kept as suppressed.',
          }),
          bankName: Type.String({
            minLength: 1,
            maxLength: 80,
            description: "The bank's name, printed in the alert.",
          }),
          helpContact: Type.String({
            minLength: 1,
            maxLength: 120,
            description:
              'How the cardholder reaches the bank (phone number or app), printed in the alert.',
          }),
          timeZone: Type.String({
            minLength: 1,
            default: 'UTC',
            description: 'IANA time zone of the time shown.',
          }),
          defaultLanguage: literalUnion(['en', 'fr', 'de', 'es'] as const, {
            default: 'en',
            description: "Used when the cardholder's language is unknown or has no template.",
          }),
          answerWindowHours: Type.Integer({
            minimum: 1,
            maximum: 24 * 90,
            default: 168,
            description:
              "How long after an alert was written the cardholder's answer is accepted (POST /api/alerts/{id}/answer); later: ALERT_EXPIRED.",
          }),
          sink: Type.Union([EmailSink, WebhookSink], { description: 'How alerts are sent.' }),
          retry: Retry,
        },
        {
          additionalProperties: false,
          description:
            'The "was this you?" alert to the contacts on file for the card. Absent: no alerts.',
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Fraud assessment after each accepted notification, and the cardholder alert.',
  },
);

/** The `directory` section of the configuration schema (its descriptions document it). */
export const DirectoryConfig = Type.Union(
  [
    Type.Object(
      {
        type: Type.Literal('local', {
          description: 'The imported directory (`ctp-notify cardholders import`).',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('http', { description: "The bank's API." }),
        url: Type.String({
          pattern: '^https?://',
          description:
            'POSTed `{"fingerprint"[, "accountNumber"]}`; answers the cardholder JSON, or 404 when unknown.',
        }),
        timeoutMs: Type.Integer({
          minimum: 10,
          default: 2000,
          description:
            'Per request. A directory that errors or is slower does not stop the assessment: it goes on with ' +
            'DIRECTORY_UNAVAILABLE.',
        }),
        cacheSeconds: Type.Integer({
          minimum: 0,
          default: 300,
          description: 'How long an answer (found or unknown) is reused; 0 disables the cache.',
        }),
        sendCardNumber: Type.Boolean({
          default: false,
          description:
            'Send the card number too (puts the directory call in PCI scope). Default false: fingerprint only.',
        }),
        authorization: Type.Optional(
          SecretRef({ description: 'Value of the Authorization header.' }),
        ),
        ca: Type.Optional(
          FilePath({ description: 'CA certificate file for an https URL with a private CA.' }),
        ),
      },
      { additionalProperties: false },
    ),
  ],
  {
    default: { type: 'local' },
    description: "Who holds each card: the imported directory or the bank's API.",
  },
);
