import { Type, type TSchema } from '@sinclair/typebox';
import { TOKEN_REQUESTOR_ID_PATTERN } from '../visa/token-requestor-id.js';

/** JSON shapes of the admin API. Route schemas use these; `/api/openapi.json` is built from them. */

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ErrorBody = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) }, { title: 'Error' });

export const NotificationItem = Type.Object(
  {
    id: Type.String(),
    receivedAt: Type.String({ format: 'date-time' }),
    tokenRequestorId: Type.String(),
    eventType: Type.String(),
    status: Type.Union([Type.Literal('accepted'), Type.Literal('quarantined')]),
    reason: Nullable(Type.String({ description: 'Quarantine reason code' })),
    reasonFields: Nullable(Type.Array(Type.String())),
    tsp: Nullable(Type.String()),
    /** BIN and last four only, as PCI DSS permits to display; never the full number. */
    maskedPan: Nullable(Type.String({ description: 'BIN…last4; the full card number is never returned' })),
    panBin: Nullable(Type.String()),
    panLast4: Nullable(Type.String()),
    panLuhnValid: Nullable(Type.Boolean()),
    panFingerprint: Nullable(Type.String({ description: 'Keyed HMAC of the card number' })),
    enroller: Type.Object({
      firstName: Nullable(Type.String()),
      lastName: Nullable(Type.String()),
      contactEmail: Nullable(Type.String()),
      phoneNumber: Nullable(Type.String()),
    }),
    visaAttempts: Type.Integer(),
    risk: Nullable(
      Type.Object(
        {
          score: Type.Integer({ minimum: 0, maximum: 100 }),
          level: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
          reasons: Type.Array(Type.Object({ code: Type.String(), detail: Type.String() })),
          shadow: Type.Array(Type.Object({ code: Type.String(), detail: Type.String(), points: Type.Number() }), { description: 'Shadow-mode rules that fired: scored and shown, not counted' }),
          directory: Type.String({ description: 'found | unknown | unavailable' }),
          assessedAt: Type.String({ format: 'date-time' }),
        },
        { description: 'Fraud assessment; null until assessed (it runs after the answer to Visa) or for quarantined notifications' },
      ),
    ),
  },
  { title: 'NotificationItem' },
);

export const NotificationDetail = Type.Composite(
  [
    Type.Omit(NotificationItem, []),
    Type.Object({
      jwsKid: Nullable(Type.String()),
      jweKid: Nullable(Type.String()),
      updatedAt: Type.String({ format: 'date-time' }),
    }),
  ],
  { title: 'NotificationDetail' },
);

export const Page = <T extends TSchema>(item: T, id: string) =>
  Type.Object(
    { items: Type.Array(item), next: Nullable(Type.String({ description: 'Cursor for the next (older) page; null at the end' })) },
    { title: id },
  );

export const NotificationFilters = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Received at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Received before' })),
  status: Type.Optional(Type.Union([Type.Literal('accepted'), Type.Literal('quarantined')])),
  tokenRequestorId: Type.Optional(Type.String({ pattern: TOKEN_REQUESTOR_ID_PATTERN })),
  last4: Type.Optional(Type.String({ pattern: '^[0-9]{4}$' })),
  fingerprint: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'Card fingerprint (from a previous result)' })),
  risk: Type.Optional(Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')], { description: 'Risk level' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
};

export const AuditItem = Type.Object(
  {
    seq: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    actor: Type.String(),
    actorRole: Nullable(Type.String()),
    action: Type.String(),
    target: Nullable(Type.String()),
    outcome: Type.String(),
    address: Nullable(Type.String()),
    detail: Nullable(Type.Record(Type.String(), Type.Unknown())),
  },
  { title: 'AuditItem' },
);

export const KeyItem = Type.Object(
  {
    id: Type.String({ description: 'kid, or the config field for TLS certificates' }),
    use: Type.String({ description: 'decryption | verification | data | fingerprint | tls-server | tls-client-ca | admin-tls' }),
    subject: Nullable(Type.String()),
    notAfter: Nullable(Type.String({ format: 'date-time', description: 'null when the expiry is not known (a key without certificate)' })),
    daysLeft: Nullable(Type.Number()),
    status: Type.Union([Type.Literal('ok'), Type.Literal('expiring'), Type.Literal('expired'), Type.Literal('unknown'), Type.Literal('n/a')]),
    note: Nullable(Type.String()),
  },
  { title: 'KeyItem' },
);

export const OperatorItem = Type.Object(
  {
    name: Type.String(),
    role: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    disabledAt: Nullable(Type.String({ format: 'date-time' })),
    lastLoginAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { title: 'OperatorItem' },
);

export const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });
