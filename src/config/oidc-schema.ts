import { type Static, Type } from '@sinclair/typebox';
import { ISSUER_ID_PATTERN } from '../domain/issuer-ids.js';
import { SecretRef } from './secret-ref.js';

const CONSOLE_ROLES = ['viewer', 'analyst', 'admin'] as const;

/** One group of the identity provider and what its members may do. */
export const OidcGroupSchema = Type.Object(
  {
    group: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'A value of the groups claim (a group name, or its id with Entra ID).',
    }),
    role: Type.Union(
      CONSOLE_ROLES.map((r) => Type.Literal(r)),
      { description: 'The role its members get.' },
    ),
    issuers: Type.Optional(
      Type.Array(Type.String({ pattern: ISSUER_ID_PATTERN }), {
        minItems: 1,
        description: 'The issuers whose resources its members see.',
      }),
    ),
    allIssuers: Type.Optional(
      Type.Boolean({ description: "true: its members see every issuer's (processor staff)." }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Single sign-on for the console with OpenID Connect (authorization code flow with PKCE, `state`
 * and `nonce`; OpenID Connect Core 1.0 §3.1), against the bank's identity provider.
 */
export const OidcSchema = Type.Object(
  {
    issuer: Type.String({
      pattern: '^https?://',
      description:
        "The provider's issuer URL; its `/.well-known/openid-configuration` is read at the first sign-in. `https://`, " +
        'or `http://` on loopback only (a test provider).',
    }),
    clientId: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'The client registered for the console.',
    }),
    clientSecret: SecretRef({ description: "The confidential client's secret." }),
    redirectUri: Type.String({
      pattern: '^https?://[^/]+/auth/callback$',
      description:
        "The callback registered with the provider: the console's address followed by `/auth/callback`.",
    }),
    scopes: Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,64}$' }), {
      default: ['openid', 'profile', 'email'],
      maxItems: 20,
      description:
        'Scopes asked for; `openid` is always added. Some providers need one for groups.',
    }),
    groupsClaim: Type.String({
      minLength: 1,
      maxLength: 128,
      default: 'groups',
      description: "The ID token's claim listing the user's groups.",
    }),
    requireMfa: Type.Boolean({
      default: true,
      description:
        'Refuse a sign-in whose ID token does not show a second factor: `amr` holding `mfa`, `otp`, `hwk` or ' +
        '`swk` (RFC 8176), or an `acr` listed in `mfaAcrValues` (PCI DSS 8.4.2).',
    }),
    mfaAcrValues: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      default: [],
      maxItems: 20,
      description: "`acr` values that mean a second factor was used (the provider's own names).",
    }),
    groups: Type.Array(OidcGroupSchema, {
      minItems: 1,
      maxItems: 1000,
      description:
        'Groups mapped to a role and issuers. A user in none of them is refused; in several, the highest role ' +
        'and every issuer of them.',
    }),
    sessionMinutes: Type.Integer({
      minimum: 5,
      maximum: 1440,
      default: 60,
      description:
        'A session from single sign-on lasts at most this long; the provider is then asked again, so a user ' +
        'removed from the groups loses access by then.',
    }),
  },
  { additionalProperties: false },
);
export type OidcConfig = Static<typeof OidcSchema>;
