import { type Static, Type } from '@sinclair/typebox';
import {
  CONTENT_ENCRYPTION_ALGORITHMS,
  KEY_MANAGEMENT_ALGORITHMS,
  SIGNATURE_ALGORITHMS,
} from '../domain/jose-algorithms.js';
import { literalUnion } from '../util/literal-union.js';
import { DeliverySchema, type SinkConfig, SinksSchema } from './delivery-schema.js';
import { FilePath } from './file-path.js';
import { HsmConfig } from './hsm-schema.js';
import {
  AuthSchema,
  DataProtectionSchema,
  DecryptionKeysSchema,
  type IssuerConfig,
  IssuerSchema,
  TokenRequestorIdsSchema,
} from './issuer-schema.js';
import { AdminTlsSchema, ListenTlsSchema } from './listen-tls-schema.js';
import { OidcSchema } from './oidc-schema.js';
import { DirectoryConfig, RiskConfig } from './risk-config-schema.js';
import { SecretRef } from './secret-ref.js';
import { TelemetrySchema } from './telemetry-schema.js';

/**
 * The one configuration schema. Types are derived from it (`Config`), defaults live in it, and
 * `loadConfig` validates a file against it at start. Field names are a public contract. Every
 * field's `description` is its documentation: docs/configuration.md is generated from them
 * (`npm run docs:config`).
 */
export const ConfigSchema = Type.Object(
  {
    listen: Type.Object(
      {
        host: Type.String({
          default: '127.0.0.1',
          description: 'Address the Visa listener binds to.',
        }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 8443,
          description: 'Port of the Visa listener (0: any free port).',
        }),
        tls: Type.Optional(ListenTlsSchema),
        bodyLimitBytes: Type.Integer({
          minimum: 1024,
          maximum: 1048576,
          default: 16384,
          description:
            "Largest request body accepted; larger ones get 400 (Visa's `encryptedData` is at most 7000 characters).",
        }),
        requestTimeoutMs: Type.Integer({
          minimum: 100,
          default: 10000,
          description:
            'Whole-request deadline (headers and body), against slow clients; also the idle-socket timeout.',
        }),
        headersTimeoutMs: Type.Optional(
          Type.Integer({
            minimum: 100,
            description:
              'Deadline for the request headers (and the TLS handshake), against slowloris. Default: 5000, or ' +
              '`requestTimeoutMs` if smaller; must not exceed `requestTimeoutMs`.',
          }),
        ),
        keepAliveTimeoutMs: Type.Integer({
          minimum: 100,
          default: 5000,
          description: 'How long an idle keep-alive connection is kept open.',
        }),
        admission: Type.Object(
          {
            maxInFlight: Type.Integer({
              minimum: 1,
              maximum: 100000,
              default: 64,
              description:
                'Visa requests one process holds at once, waiting or being worked on; one more is answered 500 ' +
                'at once (Visa retries). Per process: `--workers` multiplies it. In a cluster, a worker also ' +
                'resets new connections at once when it is full, or half full with TLS handshakes and unread ' +
                'new connections making up the rest.',
            }),
            maxWaitMs: Type.Integer({
              minimum: 0,
              maximum: 60000,
              default: 250,
              description:
                'Longest a request, once read whole, may wait in this process for its work (the RSA operations ' +
                'first) to start; past it, 500 at once.',
            }),
          },
          {
            additionalProperties: false,
            default: {},
            description:
              'Admission control: past either limit a request is answered 500 before any RSA operation or ' +
              'write, and counted in `ctp_notify_requests_shed_total`.',
          },
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'The listener Visa sends notifications to.',
      },
    ),
    basePath: Type.String({
      pattern: '^(/[A-Za-z0-9._~-]+)*$',
      default: '',
      description:
        "Path prefix in front of `/vtis/v1/...` (and in front of each issuer's `basePath`) when the endpoints " +
        'are not at the root.',
    }),
    workers: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 256,
        description:
          'Processes serving the Visa listener (`serve --workers N` overrides); default: the number of cores.',
      }),
    ),
    storage: Type.Object(
      {
        url: Type.String({
          pattern: '^(sqlite:|postgres://|postgresql://)',
          description:
            '`sqlite:PATH` (relative to the config file), `postgres://…` or `postgresql://…`.',
        }),
        poolSize: Type.Integer({
          minimum: 1,
          maximum: 200,
          default: 10,
          description:
            "PostgreSQL connections per process: instances × workers × poolSize must stay under the server's " +
            '`max_connections`.',
        }),
        statementTimeoutMs: Type.Integer({
          minimum: 100,
          default: 5000,
          description: 'PostgreSQL statement timeout.',
        }),
        preparedStatements: Type.Boolean({
          default: true,
          description:
            'PostgreSQL: each statement parsed once per connection (named prepared statements) rather than at every ' +
            'execution. Set false behind a connection pooler in transaction mode that cannot carry them (PgBouncer ' +
            'before 1.21, or without `max_prepared_statements`).',
        }),
      },
      {
        additionalProperties: false,
        description: 'The database: notifications, deliveries, assessments.',
      },
    ),
    keys: Type.Object(
      {
        decryption: Type.Optional({
          ...DecryptionKeysSchema,
          description:
            'Issuer decryption keys of a configuration without `issuers` (with `issuers`, each issuer has its own).',
        }),
        verification: Type.Array(
          Type.Object(
            {
              kid: Type.String({
                minLength: 1,
                description: "The certificate's id, matched against the JWS `kid`.",
              }),
              certificate: FilePath({
                description: "Visa's signing certificate: X.509 or SPKI PEM.",
              }),
            },
            { additionalProperties: false },
          ),
          {
            minItems: 1,
            description: "Visa's signing certificates, chosen by the JWS `kid`. Ids are unique.",
          },
        ),
      },
      {
        additionalProperties: false,
        description: "The issuer's decryption keys and Visa's signing certificates.",
      },
    ),
    jose: Type.Object(
      {
        signatureAlgorithms: Type.Array(literalUnion(SIGNATURE_ALGORITHMS), {
          minItems: 1,
          default: ['PS256'],
          description: "JWS algorithms accepted for Visa's signature.",
        }),
        keyManagementAlgorithms: Type.Array(literalUnion(KEY_MANAGEMENT_ALGORITHMS), {
          minItems: 1,
          default: ['RSA-OAEP-256'],
          description: 'JWE key-management algorithms accepted.',
        }),
        contentEncryptionAlgorithms: Type.Array(literalUnion(CONTENT_ENCRYPTION_ALGORITHMS), {
          minItems: 1,
          default: ['A256GCM', 'A128GCM'],
          description: 'JWE content-encryption algorithms accepted.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Algorithm allow-lists. `none`, HS*, RSA1_5 cannot be configured.',
      },
    ),
    auth: {
      ...AuthSchema,
      description:
        "Application-level checks of Visa's requests, without `issuers` (with them, each issuer's `auth`).",
    },
    tokenRequestorIds: Type.Optional(TokenRequestorIdsSchema),
    hsm: Type.Optional(HsmConfig),
    dataProtection: Type.Optional(DataProtectionSchema),
    issuers: Type.Optional(
      Type.Array(IssuerSchema, {
        minItems: 1,
        maxItems: 1000,
        description:
          'The issuers this deployment serves, each with its own endpoint, keys and data. Absent: one issuer, ' +
          '`default`, from the top-level `keys.decryption`, `auth`, `tokenRequestorIds` and `dataProtection`.',
      }),
    ),
    issuersDir: Type.Optional(
      FilePath({
        description:
          'A folder of issuer files (`*.json`, one issuer each, as an item of `issuers`), read after `issuers`; ' +
          'paths in them resolve against the configuration file, like every path.',
      }),
    ),
    log: Type.Object(
      {
        level: literalUnion(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
          {
            default: 'info',
            description: 'pino log level.',
          },
        ),
      },
      { additionalProperties: false, default: { level: 'info' }, description: 'Logging.' },
    ),
    directory: DirectoryConfig,
    risk: RiskConfig,
    admin: Type.Optional(
      Type.Object(
        {
          host: Type.String({
            default: '127.0.0.1',
            description: 'Address the admin listener binds to.',
          }),
          allowedHosts: Type.Array(
            Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$' }),
            {
              default: [],
              maxItems: 50,
              description:
                'Host names the console and API may be reached by (the `Host` header, port aside), besides IP ' +
                'addresses and `localhost`, which are always accepted. A request naming any other host is refused ' +
                '(421): a web page cannot then reach the listener through a name it controls (DNS rebinding). ' +
                'List the name operators use, e.g. `ctp-console.bank.example`.',
            },
          ),
          port: Type.Integer({
            minimum: 0,
            maximum: 65535,
            default: 8081,
            description: 'Port of the admin listener (0: any free port); never `listen.port`.',
          }),
          tls: Type.Optional(AdminTlsSchema),
          sessionIdleMinutes: Type.Integer({
            minimum: 1,
            maximum: 1440,
            default: 15,
            description: 'A console session ends after this much inactivity (PCI DSS 8.2.8).',
          }),
          sessionMaxHours: Type.Integer({
            minimum: 1,
            maximum: 168,
            default: 8,
            description: 'A console session ends at the latest this long after login.',
          }),
          loginMaxFailures: Type.Integer({
            minimum: 1,
            maximum: 100,
            default: 10,
            description:
              'Failed logins allowed per user name (and 4× per client address) in `loginWindowMinutes`; then ' +
              'sign-in waits until the window has passed (PCI DSS 8.3.4).',
          }),
          loginWindowMinutes: Type.Integer({
            minimum: 1,
            maximum: 1440,
            default: 30,
            description:
              'The window in which failed logins are counted, and how long a lock-out lasts after the last of them.',
          }),
          keyExpiryWarningDays: Type.Integer({
            minimum: 1,
            maximum: 365,
            default: 30,
            description: 'Keys and certificates expiring within this many days are flagged.',
          }),
          oidc: Type.Optional(OidcSchema),
          localMfa: Type.Union([Type.Literal('required'), Type.Literal('optional')], {
            default: 'required',
            description:
              'A second factor for local accounts signing in to the console: a TOTP code (RFC 6238) after the ' +
              'password. `required`: every local operator enrols at their next sign-in (PCI DSS 8.4.2); ' +
              '`optional`: those who enrolled use it (a development setup).',
          }),
          totpKey: Type.Optional(
            SecretRef({
              description:
                "Encrypts local operators' TOTP secrets at rest (AES-256-GCM): 32 random bytes, base64 " +
                '(`openssl rand -base64 32`). Required with `localMfa` `required`; without it, nobody enrols.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            "The operators' listener (console, admin API, metrics), never on Visa's port. Absent: no admin listener.",
        },
      ),
    ),
    telemetry: Type.Optional(TelemetrySchema),
    retention: Type.Optional(
      Type.Object(
        {
          days: Type.Integer({
            minimum: 1,
            maximum: 36500,
            description: 'Personal data is kept this many days after receipt, then purged.',
          }),
          intervalMinutes: Type.Integer({
            minimum: 1,
            maximum: 1440,
            default: 60,
            description: 'How often `serve` purges (`ctp-notify purge` purges once).',
          }),
        },
        {
          additionalProperties: false,
          description:
            'Purging of personal data: names, email, phone, card-number and payload ciphertexts, the envelope as ' +
            'received; fingerprints, BIN/last4 and counts stay. Absent: nothing is purged.',
        },
      ),
    ),
    allowInsecureKeyPermissions: Type.Boolean({
      default: false,
      description:
        'Start even when a private key file is readable by group or others (logged as an error).',
    }),
    sinks: SinksSchema,
    delivery: DeliverySchema,
  },
  { additionalProperties: false },
);

/** A configuration file as validated, defaults filled, before its issuers are settled. */
export type ConfigInput = Static<typeof ConfigSchema>;

/**
 * The configuration the service runs on: `parseConfig` moves everything issuer-specific into
 * `issuers` (a configuration without them gets the one issuer `default`), so no code reads an
 * issuer's keys or credentials from the top.
 */
export type Config = Omit<
  ConfigInput,
  'issuers' | 'issuersDir' | 'keys' | 'auth' | 'tokenRequestorIds' | 'dataProtection' | 'sinks'
> & {
  keys: Pick<ConfigInput['keys'], 'verification'>;
  /** Every issuer, in configuration order; at least one. */
  issuers: IssuerSettings[];
  /** Every sink: the top-level ones (every issuer's events), then each issuer's own. */
  sinks: SettledSink[];
};

/**
 * A sink, settled: `issuer` is the issuer whose events alone it gets (absent: every issuer's),
 * `at` the JSON pointer its fields are named under (`/sinks/0`, `/issuers/1/sinks/0`).
 */
export type SettledSink = SinkConfig & { issuer?: string; at: string };

/**
 * One issuer, settled: `at` is the JSON pointer its fields are named under in error messages
 * (`""` for the top-level fields of a configuration without `issuers`, `/issuers/0`, or the
 * issuer file's name).
 */
export type IssuerSettings = IssuerConfig & { name: string; at: string };
