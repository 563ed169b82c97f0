import { type Static, Type } from '@sinclair/typebox';
import { ISSUER_ID_PATTERN } from '../domain/issuer-ids.js';
import { TOKEN_REQUESTOR_ID_PATTERN } from '../visa/token-requestor-id.js';
import { SinksSchema } from './delivery-schema.js';
import { FilePath } from './file-path.js';
import { TokenKeyRef } from './hsm-schema.js';
import { SecretRef, secretRefWith } from './secret-ref.js';

/** A data key kept wrapped (RSA-OAEP-256) by a key-encrypting key in the token. */
const WrappedBy = () =>
  Type.Object(TokenKeyRef.properties, {
    additionalProperties: false,
    description:
      'The secret is this data key wrapped (RSA-OAEP-256, base64) by the named key in the `hsm` token, ' +
      'as `ctp-notify keys wrap-data-key` writes it; unwrapped into memory at start. Absent: the key in clear.',
  });

/** The issuer's message-encryption private keys, chosen by the JWE `kid`. */
export const DecryptionKeysSchema = Type.Array(
  Type.Object(
    {
      kid: Type.String({
        minLength: 1,
        description: "The key's id, matched against the JWE `kid`.",
      }),
      privateKey: Type.Optional(
        FilePath({
          description:
            'Issuer private key: PKCS#8 or PKCS#1 PEM, RSA of at least 2048 bits. Give this or `hsm`.',
        }),
      ),
      hsm: Type.Optional(
        Type.Object(TokenKeyRef.properties, {
          additionalProperties: false,
          description:
            'The key in the token named by the top-level `hsm`, instead of `privateKey`: it never leaves the token.',
        }),
      ),
      certificate: Type.Optional(
        FilePath({
          description:
            'The certificate given to Visa for this key, if kept beside it: its expiry is then reported ' +
            '(`/api/keys`, metrics); without it the expiry is "unknown".',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  {
    minItems: 1,
    description:
      'Issuer decryption keys, chosen by the JWE `kid`; several for rotation, files and token keys mixed. ' +
      'Ids are unique.',
  },
);

/** Visa's X-Pay-Token: the shared secret issued to this issuer's endpoint. */
export const XPayTokenSchema = Type.Object(
  {
    sharedSecret: SecretRef({ description: "Visa's shared secret, at least 16 bytes." }),
    clockSkewSeconds: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 300,
      description: "Largest accepted difference between the token's timestamp and this clock.",
    }),
  },
  {
    additionalProperties: false,
    description: "Visa's X-Pay-Token on each request. Absent: not checked.",
  },
);

/** Application-level checks of Visa's requests. */
export const AuthSchema = Type.Object(
  { xPayToken: Type.Optional(XPayTokenSchema) },
  {
    additionalProperties: false,
    default: {},
    description: "Application-level checks of Visa's requests.",
  },
);

/** Allow-list of token requestor ids. */
export const TokenRequestorIdsSchema = Type.Array(
  Type.String({ pattern: TOKEN_REQUESTOR_ID_PATTERN }),
  {
    minItems: 1,
    description:
      'Allow-list of 11-digit tokenRequestorIDs; others get 404. Absent: any 11-digit ID.',
  },
);

/** Keys protecting card numbers and personal data at rest. */
export const DataProtectionSchema = Type.Object(
  {
    keys: Type.Array(
      secretRefWith({
        id: Type.String({
          pattern: '^[A-Za-z0-9._-]{1,32}$',
          description:
            'Key id, stored with each ciphertext; unique across the deployment (every issuer).',
        }),
        wrappedBy: Type.Optional(WrappedBy()),
      }),
      {
        minItems: 1,
        description:
          'AES-256 data keys (32 bytes, base64) for card numbers and payloads: the first encrypts, all decrypt, ' +
          'so keys rotate without rewriting rows.',
      },
    ),
    fingerprintKey: secretRefWith(
      { wrappedBy: Type.Optional(WrappedBy()) },
      {
        description:
          'HMAC-SHA-256 key for card-number fingerprints; the same on every instance, never rotated casually ' +
          '(fingerprints are look-up keys).',
      },
    ),
  },
  {
    additionalProperties: false,
    description:
      'Keys protecting card numbers and payloads at rest; every instance needs the same ones.',
  },
);

/**
 * One issuer served by the deployment: its endpoint, its keys and credentials. What is Visa's
 * or the deployment's (listeners, TLS and Visa's client CA, `keys.verification`, `storage`,
 * `admin`, the `hsm` module) stays at the top of the configuration.
 */
export const IssuerSchema = Type.Object(
  {
    id: Type.String({
      pattern: ISSUER_ID_PATTERN,
      description:
        'Stable id stored with every row of this issuer (`^[a-z0-9][a-z0-9-]{0,31}$`); never reused.',
    }),
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Display name. Default: the id.' }),
    ),
    basePath: Type.String({
      pattern: '^(/[a-z0-9][a-z0-9._~-]{0,63})?$',
      description:
        "One path segment in front of `/vtis/v1/...` (after the top-level `basePath`): this issuer's " +
        'endpoint registered with Visa. `""` for at most one issuer: the endpoint without a segment.',
    }),
    tokenRequestorIds: Type.Optional(TokenRequestorIdsSchema),
    binRanges: Type.Optional(
      Type.Array(Type.String({ pattern: '^[0-9]{6,11}(-[0-9]{6,11})?$' }), {
        minItems: 1,
        maxItems: 10000,
        description:
          "This issuer's card ranges: `LOW-HIGH` (both of one length, 6 to 11 digits) or one prefix. A " +
          'decrypted card number in none of them is quarantined (`BIN_NOT_ISSUER`), never assessed or ' +
          'delivered. Absent: not checked.',
      }),
    ),
    keys: Type.Object(
      { decryption: DecryptionKeysSchema },
      { additionalProperties: false, description: "This issuer's decryption keys." },
    ),
    auth: AuthSchema,
    dataProtection: DataProtectionSchema,
    sinks: {
      ...SinksSchema,
      description:
        "Where this issuer's accepted notifications are delivered, besides the top-level `sinks` (which " +
        "get every issuer's). Sink names are unique across the deployment.",
    },
  },
  { additionalProperties: false },
);

/** One issuer as configured, defaults filled. */
export type IssuerConfig = Static<typeof IssuerSchema>;
