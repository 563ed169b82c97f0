import { type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox';
import { CONTENT_ENCRYPTION_ALGORITHMS, KEY_MANAGEMENT_ALGORITHMS } from '../jose/compact-jwe.js';
import { SIGNATURE_ALGORITHMS } from '../jose/compact-jws.js';
import { TOKEN_REQUESTOR_ID_PATTERN } from '../visa/token-requestor-id.js';
import { DeliverySchema, SinksSchema } from './delivery-schema.js';
import { FilePath } from './file-path.js';
import { DirectoryConfig, RiskConfig } from './risk-config-schema.js';
import { SecretRef, secretRefWith } from './secret-ref.js';

const Literals = <T extends string>(values: readonly T[], options: { default?: unknown } = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<TLiteral<T>[]>;

/**
 * The one configuration schema. Types are derived from it (`Config`), defaults live in it, and
 * `loadConfig` validates a file against it at start. Field names are a public contract.
 */
export const ConfigSchema = Type.Object(
  {
    listen: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8443 }),
        tls: Type.Optional(
          Type.Object(
            {
              cert: FilePath(),
              key: FilePath(),
              /**
               * When set, Visa must present a client certificate issued by this CA (mutual TLS).
               */
              clientCa: Type.Optional(FilePath()),
            },
            { additionalProperties: false },
          ),
        ),
        /** Largest request body accepted; Visa's encryptedData is at most 7000 characters. */
        bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 1048576, default: 16384 }),
        /**
         * Whole-request deadline (headers and body), against slow clients; also the idle-socket
         * timeout.
         */
        requestTimeoutMs: Type.Integer({ minimum: 100, default: 10000 }),
        /**
         * Deadline for the request headers (and the TLS handshake), against slowloris. Default:
         * 5000 or requestTimeoutMs if smaller; never more than requestTimeoutMs.
         */
        headersTimeoutMs: Type.Optional(Type.Integer({ minimum: 100 })),
        keepAliveTimeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Path prefix in front of `/vtis/v1/...` when the issuer endpoint is not at the root. */
    basePath: Type.String({ pattern: '^(/[A-Za-z0-9._~-]+)*$', default: '' }),
    /** Processes serving the Visa listener; defaults to the number of cores. */
    workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
    storage: Type.Object(
      {
        /** `sqlite:PATH` (relative to the config file), `postgres://…` or `postgresql://…`. */
        url: Type.String({ pattern: '^(sqlite:|postgres://|postgresql://)' }),
        poolSize: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
        statementTimeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
      },
      { additionalProperties: false },
    ),
    keys: Type.Object(
      {
        decryption: Type.Array(
          Type.Object(
            {
              kid: Type.String({ minLength: 1 }),
              privateKey: FilePath(),
              /**
               * The certificate given to Visa for this key, if kept beside it: its expiry is
               * then reported (`/api/keys`, metrics); without it the expiry is "unknown".
               */
              certificate: Type.Optional(FilePath()),
            },
            { additionalProperties: false },
          ),
          { minItems: 1 },
        ),
        verification: Type.Array(
          Type.Object(
            { kid: Type.String({ minLength: 1 }), certificate: FilePath() },
            { additionalProperties: false },
          ),
          { minItems: 1 },
        ),
      },
      { additionalProperties: false },
    ),
    jose: Type.Object(
      {
        signatureAlgorithms: Type.Array(Literals(SIGNATURE_ALGORITHMS), {
          minItems: 1,
          default: ['PS256'],
        }),
        keyManagementAlgorithms: Type.Array(Literals(KEY_MANAGEMENT_ALGORITHMS), {
          minItems: 1,
          default: ['RSA-OAEP-256'],
        }),
        contentEncryptionAlgorithms: Type.Array(Literals(CONTENT_ENCRYPTION_ALGORITHMS), {
          minItems: 1,
          default: ['A256GCM', 'A128GCM'],
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        xPayToken: Type.Optional(
          Type.Object(
            {
              /** Visa's shared secret (at least 16 bytes), by file or environment variable. */
              sharedSecret: SecretRef,
              clockSkewSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 300 }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Allow-list of 11-digit tokenRequestorIDs; absent means any 11-digit ID. */
    tokenRequestorIds: Type.Optional(
      Type.Array(Type.String({ pattern: TOKEN_REQUESTOR_ID_PATTERN }), { minItems: 1 }),
    ),
    dataProtection: Type.Object(
      {
        /** AES-256 data keys for card numbers and payloads; the first encrypts, all decrypt. */
        keys: Type.Array(
          secretRefWith({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,32}$' }) }),
          { minItems: 1 },
        ),
        /**
         * HMAC-SHA-256 key for card-number fingerprints; shared by every instance, never rotated
         * casually.
         */
        fingerprintKey: SecretRef,
      },
      { additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Literals(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
          default: 'info',
        }),
      },
      { additionalProperties: false, default: { level: 'info' } },
    ),
    /** Who holds each card: the imported directory (default) or the bank's API. */
    directory: DirectoryConfig,
    /** Fraud assessment after each accepted notification, and the cardholder alert. */
    risk: RiskConfig,
    /**
     * The operators' listener (console, admin API, metrics): never on Visa's port. Absent means
     * no admin listener. Its own TLS, if any; cookies are then marked Secure.
     */
    admin: Type.Optional(
      Type.Object(
        {
          host: Type.String({ default: '127.0.0.1' }),
          port: Type.Integer({ minimum: 0, maximum: 65535, default: 8081 }),
          tls: Type.Optional(
            Type.Object({ cert: FilePath(), key: FilePath() }, { additionalProperties: false }),
          ),
          /** A console session ends after this much inactivity. */
          sessionIdleMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 30 }),
          /** …and at the latest this long after login. */
          sessionMaxHours: Type.Integer({ minimum: 1, maximum: 168, default: 8 }),
          /**
           * Failed logins allowed per user name (and 4× per client address) in
           * `loginWindowMinutes`.
           */
          loginMaxFailures: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
          loginWindowMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 15 }),
          /** Keys and certificates expiring within this many days are flagged. */
          keyExpiryWarningDays: Type.Integer({ minimum: 1, maximum: 365, default: 30 }),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Personal data is kept this many days after receipt, then purged (names, email, phone,
     * card-number and payload ciphertexts, the envelope as received); fingerprints, BIN/last4
     * and counts stay. `serve` purges every `intervalMinutes` (default 60); also
     * `ctp-notify purge`. Absent: nothing is purged.
     */
    retention: Type.Optional(
      Type.Object(
        {
          days: Type.Integer({ minimum: 1, maximum: 36500 }),
          intervalMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 60 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Start even when a private key file is readable by group or others (logged as an error). */
    allowInsecureKeyPermissions: Type.Boolean({ default: false }),
    /**
     * Where each accepted notification is delivered as an event (webhook, RabbitMQ); see docs/delivery.md.
     */
    sinks: SinksSchema,
    /** The delivery worker that drains the outbox into the sinks. */
    delivery: DeliverySchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
