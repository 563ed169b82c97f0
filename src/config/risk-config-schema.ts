import { type TLiteral, type TUnion, Type } from '@sinclair/typebox';
import { RISK_CODES } from '../risk/risk-codes.js';
import { FilePath } from './file-path.js';
import { SecretRef } from './secret-ref.js';

const Literals = <T extends string>(values: readonly T[], options: { default?: unknown } = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<TLiteral<T>[]>;

/**
 * Per-code override: `weight` replaces the default points; `mode` "shadow" scores and logs without
 * counting.
 */
const RuleSetting = Type.Object(
  {
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    mode: Type.Optional(Literals(['active', 'shadow', 'off'] as const)),
  },
  { additionalProperties: false },
);

const Retry = Type.Object(
  {
    initialDelayMs: Type.Integer({ minimum: 10, default: 1000 }),
    maxDelayMs: Type.Integer({ minimum: 10, default: 3_600_000 }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 12 }),
  },
  { additionalProperties: false, default: {} },
);

const EmailSink = Type.Object(
  {
    type: Type.Literal('email'),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
    /** TLS from the first byte (port 465); otherwise STARTTLS. */
    secure: Type.Boolean({ default: false }),
    /** Refuse to send without STARTTLS. Default true: alerts name the cardholder. */
    requireTls: Type.Boolean({ default: true }),
    /** CA certificate file to trust for the SMTP server (default: the system's). */
    ca: Type.Optional(FilePath()),
    user: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(SecretRef),
    from: Type.String({ minLength: 3 }),
    timeoutMs: Type.Integer({ minimum: 100, default: 15000 }),
  },
  { additionalProperties: false },
);

const WebhookSink = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ pattern: '^https?://' }),
    /**
     * Standard Webhooks secrets (`whsec_` + base64), by file or env; several sign at once
     * (rotation).
     */
    secrets: Type.Array(SecretRef, { minItems: 1 }),
    timeoutMs: Type.Integer({ minimum: 100, default: 10000 }),
  },
  { additionalProperties: false },
);

/** `risk`: fraud assessment of each accepted notification and the cardholder alert. */
export const RiskConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    /**
     * ISO 3166 alpha-2 country for national phone numbers (e.g. "GB"); absent: only +… numbers
     * parse.
     */
    defaultCountry: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    levels: Type.Object(
      {
        medium: Type.Integer({ minimum: 1, maximum: 100, default: 30 }),
        high: Type.Integer({ minimum: 1, maximum: 100, default: 70 }),
      },
      { additionalProperties: false, default: {} },
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
      },
    ),
    name: Type.Object(
      {
        /** Similarity at or above which names match (no reason). */
        matchAt: Type.Number({ minimum: 0, maximum: 1, default: 0.8 }),
        /** Below `matchAt` and at or above this: NAME_WEAK_MATCH; below: NAME_MISMATCH. */
        weakAt: Type.Number({ minimum: 0, maximum: 1, default: 0.6 }),
      },
      { additionalProperties: false, default: {} },
    ),
    velocity: Type.Object(
      {
        max24h: Type.Integer({ minimum: 1, default: 3 }),
        max7d: Type.Integer({ minimum: 1, default: 5 }),
        maxEnrollers7d: Type.Integer({ minimum: 1, default: 1 }),
      },
      { additionalProperties: false, default: {} },
    ),
    ring: Type.Object(
      {
        /** An email or phone on more cards than this within the window is a ring. */
        maxCards: Type.Integer({ minimum: 1, default: 2 }),
        windowDays: Type.Integer({ minimum: 1, maximum: 365, default: 30 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * The bank's BIN ranges: "412345" (a prefix) or "41234500-41234599" (equal-length bounds).
     * Absent: rule off.
     */
    binRanges: Type.Optional(
      Type.Array(Type.String({ pattern: '^[0-9]{1,11}(-[0-9]{1,11})?$' }), { minItems: 1 }),
    ),
    /**
     * Deliveries of an accepted notification wait for its assessment (so the event carries
     * `risk`), but no longer than this after it arrived; then they go without it.
     */
    deliveryWaitSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
    sweep: Type.Object(
      {
        /** How often unassessed notifications are looked for (also once at start). */
        intervalSeconds: Type.Integer({ minimum: 1, default: 30 }),
        /**
         * Only notifications this old are swept: younger ones may still sit in another process's
         * queue.
         */
        graceSeconds: Type.Integer({ minimum: 0, default: 10 }),
        /** How far back the sweep looks. */
        horizonHours: Type.Integer({ minimum: 1, default: 72 }),
      },
      { additionalProperties: false, default: {} },
    ),
    alert: Type.Optional(
      Type.Object(
        {
          /** Lowest level that alerts the cardholder; "low" = every attempt, worded by level. */
          minLevel: Literals(['low', 'medium', 'high'] as const, { default: 'low' }),
          /** At most one alert per card within this window. */
          windowSeconds: Type.Integer({ minimum: 0, default: 3600 }),
          bankName: Type.String({ minLength: 1, maxLength: 80 }),
          /** How the cardholder reaches the bank (phone number or app), printed in the alert. */
          helpContact: Type.String({ minLength: 1, maxLength: 120 }),
          /** IANA time zone for the time shown (default UTC). */
          timeZone: Type.String({ minLength: 1, default: 'UTC' }),
          /** Used when the cardholder's language is unknown or has no template. */
          defaultLanguage: Literals(['en', 'fr', 'de', 'es'] as const, { default: 'en' }),
          sink: Type.Union([EmailSink, WebhookSink]),
          retry: Retry,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);

/** `directory`: who holds each card. "local" is the imported directory (`cardholders import`). */
export const DirectoryConfig = Type.Union(
  [
    Type.Object({ type: Type.Literal('local') }, { additionalProperties: false }),
    Type.Object(
      {
        type: Type.Literal('http'),
        /**
         * POSTed `{"fingerprint"[, "accountNumber"]}`; answers the cardholder JSON, or 404 when
         * unknown.
         */
        url: Type.String({ pattern: '^https?://' }),
        timeoutMs: Type.Integer({ minimum: 10, default: 2000 }),
        /** How long an answer (found or unknown) is reused; 0 disables the cache. */
        cacheSeconds: Type.Integer({ minimum: 0, default: 300 }),
        /**
         * Send the card number too (puts the directory call in PCI scope). Default false:
         * fingerprint only.
         */
        sendCardNumber: Type.Boolean({ default: false }),
        /** Value of the Authorization header, by file or env. */
        authorization: Type.Optional(SecretRef),
        /** CA certificate file for an https URL with a private CA. */
        ca: Type.Optional(FilePath()),
      },
      { additionalProperties: false },
    ),
  ],
  { default: { type: 'local' } },
);
