import { type TSchema, Type } from '@sinclair/typebox';
import { ALERT_STATUSES } from '../domain/alert-statuses.js';
import {
  CARDHOLDER_ANSWERS,
  CASE_OPENERS,
  CASE_STATUSES,
  DISPOSITIONS,
} from '../domain/case-codes.js';
import { DELIVERY_EVENTS, DELIVERY_STATUSES, MESSAGE_KINDS } from '../domain/delivery-codes.js';
import { ISSUER_ID_PATTERN } from '../domain/issuer-ids.js';
import { NOTIFICATION_STATUSES } from '../domain/notification-statuses.js';
import { RISK_LEVELS } from '../domain/risk-codes.js';
import { OPERATOR_SOURCES } from '../domain/roles.js';
import { literalUnion } from '../util/literal-union.js';
import { TOKEN_REQUESTOR_ID_PATTERN } from '../visa/token-requestor-id.js';

/**
 * JSON shapes of the admin API. The routes (`src/admin/`) validate and document with these;
 * `/api/openapi.json` is built from them; the console's types are their `Static`
 * (console/src/types.ts); the presenters (`src/presenters/`) return them. They sit below both
 * the routes and the presenters, which would otherwise import each other.
 */

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }) },
  { title: 'Error' },
);

export const NotificationItem = Type.Object(
  {
    id: Type.String(),
    issuer: Type.String({ description: 'The issuer whose endpoint received it' }),
    receivedAt: Type.String({ format: 'date-time' }),
    tokenRequestorId: Type.String(),
    eventType: Type.String(),
    status: literalUnion(NOTIFICATION_STATUSES),
    reason: Nullable(Type.String({ description: 'Quarantine reason code' })),
    reasonFields: Nullable(Type.Array(Type.String())),
    tsp: Nullable(Type.String()),
    /** BIN and last four only, as PCI DSS permits to display; never the full number. */
    maskedPan: Nullable(
      Type.String({ description: 'BIN…last4; the full card number is never returned' }),
    ),
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
          level: literalUnion(RISK_LEVELS),
          reasons: Type.Array(Type.Object({ code: Type.String(), detail: Type.String() })),
          shadow: Type.Array(
            Type.Object({ code: Type.String(), detail: Type.String(), points: Type.Number() }),
            { description: 'Shadow-mode rules that fired: scored and shown, not counted' },
          ),
          directory: Type.String({ description: 'found | unknown | unavailable' }),
          assessedAt: Type.String({ format: 'date-time' }),
        },
        {
          description:
            'Fraud assessment; null until assessed (it runs after the answer to Visa) or for quarantined notifications',
        },
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
    {
      items: Type.Array(item),
      next: Nullable(
        Type.String({ description: 'Cursor for the next (older) page; null at the end' }),
      ),
    },
    { title: id },
  );

export const NotificationFilters = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Received at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Received before' })),
  status: Type.Optional(literalUnion(NOTIFICATION_STATUSES)),
  tokenRequestorId: Type.Optional(Type.String({ pattern: TOKEN_REQUESTOR_ID_PATTERN })),
  issuer: Type.Optional(
    Type.String({ pattern: ISSUER_ID_PATTERN, description: "One issuer's notifications" }),
  ),
  last4: Type.Optional(Type.String({ pattern: '^[0-9]{4}$' })),
  fingerprint: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]{43}$',
      description: 'Card fingerprint (from a previous result)',
    }),
  ),
  risk: Type.Optional(
    literalUnion(RISK_LEVELS, {
      description: 'Risk level',
    }),
  ),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
};

export const AuditItem = Type.Object(
  {
    seq: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    actor: Type.String(),
    actorRole: Nullable(Type.String()),
    issuer: Nullable(
      Type.String({
        description:
          "The issuer of what was acted on; null for the deployment's (sign-in, operators)",
      }),
    ),
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
    issuer: Nullable(
      Type.String({
        description:
          "The issuer the key is for; null for the deployment's (Visa's certificates, TLS)",
      }),
    ),
    use: Type.String({
      description:
        'decryption | verification | data | fingerprint | tls-server | tls-client-ca | admin-tls',
    }),
    subject: Nullable(Type.String()),
    notAfter: Nullable(
      Type.String({
        format: 'date-time',
        description: 'null when the expiry is not known (a key without certificate)',
      }),
    ),
    daysLeft: Nullable(Type.Number()),
    status: Type.Union([
      Type.Literal('ok'),
      Type.Literal('expiring'),
      Type.Literal('expired'),
      Type.Literal('unknown'),
      Type.Literal('n/a'),
    ]),
    note: Nullable(Type.String()),
    location: Type.Union(
      [Type.Literal('file'), Type.Literal('env'), Type.Literal('token'), Type.Literal('wrapped')],
      {
        description:
          'file | env (a variable) | token (inside the HSM, never leaves it) | wrapped (in memory only; kept wrapped by a token key)',
      },
    ),
    where: Type.String({
      description: "The file, the variable's name, or the token and label; never key material",
    }),
  },
  { title: 'KeyItem' },
);

export const OperatorItem = Type.Object(
  {
    name: Type.String(),
    role: Type.String(),
    source: literalUnion(OPERATOR_SOURCES, {
      description: 'local: signs in with a password; oidc: made by the identity provider',
    }),
    mfaEnrolled: Type.Boolean({
      description: 'A local operator has enrolled a TOTP second factor',
    }),
    allIssuers: Type.Boolean({ description: "Sees every issuer's resources (processor staff)" }),
    issuers: Type.Array(Type.String(), {
      description: 'The issuers whose resources the operator sees (empty with allIssuers)',
    }),
    createdAt: Type.String({ format: 'date-time' }),
    disabledAt: Nullable(Type.String({ format: 'date-time' })),
    lastLoginAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { title: 'OperatorItem' },
);

export const ApiTokenItem = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Nullable(
      Type.String({ format: 'date-time', description: "null: never (a channel system's)" }),
    ),
    lastUsedAt: Nullable(Type.String({ format: 'date-time' })),
    revokedAt: Nullable(Type.String({ format: 'date-time' })),
    state: Type.Union([Type.Literal('live'), Type.Literal('expired'), Type.Literal('revoked')]),
  },
  { title: 'ApiTokenItem' },
);

export const DeliveryStatusSchema = literalUnion(DELIVERY_STATUSES);

export const DeliveryItem = Type.Object(
  {
    id: Type.String(),
    issuer: Type.String({ description: "Its notification's issuer" }),
    kind: literalUnion(MESSAGE_KINDS, {
      description:
        "event: for a sink (the enrollment attempt, or the cardholder's answer); alert: the cardholder's " +
        '"was this you?", on the alert channel (sink `alert:cardholder`)',
    }),
    notificationId: Type.String(),
    eventId: Type.String({
      description:
        'evt_ + the notification id (evt_ + the alert id for a cardholder answer; the alert id for an alert): ' +
        'webhook-id / message-id, the same on every attempt and replay',
    }),
    event: literalUnion(DELIVERY_EVENTS, {
      description: 'ctp.enrollment_attempt (or the eventType received), or ctp.cardholder_answer',
    }),
    sink: Type.String(),
    origin: Type.String({ description: 'accepted (first delivery) or replay' }),
    status: DeliveryStatusSchema,
    attempts: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
    deliveredAt: Nullable(Type.String({ format: 'date-time' })),
    lastError: Nullable(
      Type.String({ description: 'Stable code: HTTP_503, TIMEOUT, CONNECTION, AMQP_NACK…' }),
    ),
    lastStatus: Type.Union([Type.Integer(), Type.Null()]),
    inFlight: Type.Boolean({ description: 'A worker holds a live lease on it' }),
  },
  { title: 'DeliveryItem' },
);

export const SinkItem = Type.Object({
  name: Type.String(),
  issuer: Nullable(
    Type.String({ description: "The issuer whose events alone it gets; null: every issuer's" }),
  ),
  type: Type.String(),
  target: Type.String({ description: 'Where it delivers, without credentials or query' }),
  includePan: Type.Boolean(),
  disabledAt: Nullable(Type.String({ format: 'date-time' })),
  disabledReason: Nullable(Type.String()),
  counts: Type.Object({
    pending: Type.Integer(),
    failed: Type.Integer({ description: 'Awaiting a retry' }),
    delivered: Type.Integer({ description: 'Queued in the last 24 hours and delivered' }),
    dead: Type.Integer(),
  }),
  oldestOpenAt: Nullable(
    Type.String({ format: 'date-time', description: 'Oldest delivery not yet delivered nor dead' }),
  ),
});

export const Stats = Type.Object({
  since: Type.String({ format: 'date-time' }),
  hours: Type.Array(
    Type.Object({
      hour: Type.String({ format: 'date-time' }),
      accepted: Type.Integer(),
      quarantined: Type.Integer(),
    }),
  ),
  totals: Type.Object({
    received: Type.Integer(),
    accepted: Type.Integer(),
    quarantined: Type.Integer(),
  }),
  quarantineQueue: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer() })),
  keys: Type.Object({ expiring: Type.Integer(), expired: Type.Integer() }),
  risk: Type.Object(
    { low: Type.Integer(), medium: Type.Integer(), high: Type.Integer() },
    { description: 'Assessments of the window by level' },
  ),
  deliveries: Type.Object({
    pending: Type.Integer({ description: 'Not tried yet' }),
    retrying: Type.Integer({ description: 'Failed, waiting for a retry' }),
    dead: Type.Integer({ description: 'Out of attempts: the dead-letter queue' }),
  }),
});

export const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) });

const Level = literalUnion(RISK_LEVELS);
const Answer = literalUnion(CARDHOLDER_ANSWERS);
export const CaseStatusSchema = literalUnion(CASE_STATUSES);
export const DispositionSchema = literalUnion(DISPOSITIONS);

export const CaseItem = Type.Object(
  {
    id: Type.String(),
    issuer: Nullable(Type.String({ description: "Its attempts' issuer" })),
    status: CaseStatusSchema,
    level: literalUnion(RISK_LEVELS, {
      description: 'The highest assessed level of its attempts',
    }),
    openedBy: literalUnion(CASE_OPENERS),
    openedAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    dueAt: Type.String({ format: 'date-time', description: 'openedAt + risk.cases.slaHours' }),
    overdue: Type.Boolean({ description: 'Not closed and past dueAt' }),
    assignee: Nullable(Type.String()),
    escalatedAt: Nullable(
      Type.String({
        format: 'date-time',
        description: 'When the cardholder answered "not recognised"',
      }),
    ),
    closedAt: Nullable(Type.String({ format: 'date-time' })),
    closedBy: Nullable(Type.String()),
    disposition: Nullable(DispositionSchema),
    panLast4: Nullable(Type.String()),
    cardFingerprint: Nullable(Type.String({ description: 'Keyed HMAC of the card number' })),
    attemptCount: Type.Integer(),
  },
  { title: 'CaseItem' },
);

export const CaseAttemptItem = Type.Object(
  {
    notificationId: Type.String(),
    receivedAt: Type.String({ format: 'date-time' }),
    addedAt: Type.String({ format: 'date-time' }),
    maskedPan: Nullable(Type.String({ description: 'BIN…last4' })),
    risk: Nullable(
      Type.Object({
        score: Type.Integer({ minimum: 0, maximum: 100 }),
        level: Level,
        reasons: Type.Array(Type.Object({ code: Type.String(), detail: Type.String() })),
      }),
    ),
    alert: Nullable(
      Type.Object({
        id: Type.String(),
        status: Type.String({ description: ALERT_STATUSES.join(' | ') }),
        createdAt: Type.String({ format: 'date-time' }),
        sentAt: Nullable(Type.String({ format: 'date-time' })),
        answer: Nullable(Answer),
        answeredAt: Nullable(Type.String({ format: 'date-time' })),
        answeredBy: Nullable(Type.String({ description: 'The channel operator' })),
      }),
    ),
  },
  { title: 'CaseAttemptItem' },
);

export const CaseNoteItem = Type.Object(
  {
    seq: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    author: Type.String({ description: 'Operator, channel, or system' }),
    kind: Type.String({
      description: 'note | opened | attempt | assigned | answer | reopened | closed',
    }),
    text: Nullable(Type.String({ description: "An analyst's text (notes and the closing note)" })),
    detail: Nullable(Type.Record(Type.String(), Type.Unknown())),
  },
  { title: 'CaseNoteItem' },
);

export const CaseDetail = Type.Composite(
  [
    Type.Omit(CaseItem, []),
    Type.Object({
      attempts: Type.Array(CaseAttemptItem),
      notes: Type.Array(CaseNoteItem, { description: 'Append-only, oldest first' }),
    }),
  ],
  { title: 'CaseDetail' },
);

export const AnswerBody = Type.Object(
  { answer: Answer },
  { additionalProperties: false, title: 'AnswerBody' },
);

export const AnswerResult = Type.Object(
  {
    alertId: Type.String(),
    notificationId: Type.String(),
    answer: Answer,
    caseId: Nullable(Type.String()),
    caseStatus: Nullable(CaseStatusSchema),
    events: Type.Integer({ description: 'ctp.cardholder_answer deliveries queued (one per sink)' }),
  },
  { title: 'AnswerResult' },
);

const Counts = Type.Object({
  fraud: Type.Integer(),
  legitimate: Type.Integer(),
  unlabelled: Type.Integer(),
});
export const Matrix = Type.Object(
  { low: Counts, medium: Counts, high: Counts },
  { title: 'ConfusionMatrix', description: 'Assessed level (rows) against labels' },
);

export const EvaluationReport = Type.Object(
  {
    since: Nullable(Type.String({ format: 'date-time' })),
    attempts: Type.Integer(),
    labelled: Type.Integer({ description: 'With a disposition or a cardholder answer' }),
    fraud: Type.Integer(),
    legitimate: Type.Integer(),
    matrix: Matrix,
    reasons: Type.Array(
      Type.Object({
        code: Type.String(),
        mode: Type.Union([Type.Literal('active'), Type.Literal('shadow')]),
        fired: Type.Integer(),
        labelled: Type.Integer(),
        fraud: Type.Integer(),
        precision: Nullable(Type.Number({ description: 'fraud / labelled' })),
      }),
    ),
  },
  { title: 'EvaluationReport' },
);
