import { type Static, Type } from '@sinclair/typebox';
import type { CardholderAnswer } from '../domain/case-codes.js';
import { RISK_LEVELS } from '../domain/risk-codes.js';
import type { DataDecrypter } from '../protect/data-protector.js';
import { literalUnion } from '../util/literal-union.js';
import { TOKEN_REQUESTOR_ID_PATTERN } from '../visa/token-requestor-id.js';

/**
 * The event delivered to the issuer's systems for each accepted notification: the one place
 * its shape is defined. `schemas/ctp-event.v1.json` is this schema as JSON (a test keeps the
 * two equal; `npm run schemas` rewrites the file). Adding an optional member is a compatible
 * change within v1; removing or retyping one needs v2.
 */

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) =>
  Type.Union([t, Type.Null()]);

export const RiskSchema = Type.Object(
  {
    score: Type.Integer({ minimum: 0, maximum: 100 }),
    level: literalUnion(RISK_LEVELS),
    reasons: Type.Array(
      Type.Object({ code: Type.String(), detail: Type.String() }, { additionalProperties: true }),
    ),
  },
  {
    additionalProperties: true,
    description: 'Fraud assessment of the attempt; null or absent until one is made.',
  },
);

export const CtpEventSchema = Type.Object(
  {
    version: Type.Literal(1),
    id: Type.String({
      pattern: '^evt_[0-9a-f-]{36}$',
      description:
        'Stable per notification: the same for every delivery and replay. Deduplicate on it.',
    }),
    type: Type.String({
      pattern: '^ctp\\.[a-z0-9_]+$',
      description:
        "ctp.enrollment_attempt for Visa's CTP_ENROLLMENT_ATTEMPT; other eventTypes map the same way.",
    }),
    notificationId: Type.String({
      description: "The notification's id in ctp-notify (notifications list).",
    }),
    receivedAt: Type.String({
      format: 'date-time',
      description: "When Visa's request arrived (UTC, ISO 8601).",
    }),
    tokenRequestorId: Type.String({ pattern: TOKEN_REQUESTOR_ID_PATTERN }),
    eventType: Type.String({ description: "Visa's eventType query parameter, as received." }),
    tsp: Nullable(Type.String()),
    card: Nullable(
      Type.Object(
        {
          bin: Type.String(),
          last4: Type.String(),
          fingerprint: Type.String({
            description:
              'Keyed HMAC-SHA-256 of the card number (base64url): equal cards, equal fingerprints.',
          }),
          luhnValid: Type.Boolean(),
          pan: Type.Optional(
            Type.String({
              pattern: '^[0-9]{12,19}$',
              description: 'Only for sinks configured with includePan (PCI DSS scope).',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    enroller: Type.Object(
      {
        firstName: Nullable(Type.String()),
        lastName: Nullable(Type.String()),
        contactEmail: Nullable(Type.String()),
        phoneNumber: Nullable(Type.String()),
      },
      {
        additionalProperties: false,
        description: 'Who tried to enroll the card, as Visa sent it (not verified by anyone).',
      },
    ),
    risk: Type.Optional(Nullable(RiskSchema)),
  },
  {
    $id: 'urn:ctp-notify:event:v1',
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'ctp-notify event, version 1',
    additionalProperties: false,
  },
);

export type CtpEvent = Static<typeof CtpEventSchema>;
export type Risk = Static<typeof RiskSchema>;

/** What the event is built from: the stored notification (card data still protected). */
export interface EventSource {
  notificationId: string;
  /** Associated data of the card-number ciphertext (see DataProtector). */
  dedupKey: string;
  receivedAt: number;
  tokenRequestorId: string;
  eventType: string;
  tsp: string | null;
  firstName: string | null;
  lastName: string | null;
  contactEmail: string | null;
  phoneNumber: string | null;
  panFingerprint: string | null;
  panBin: string | null;
  panLast4: string | null;
  panLuhnValid: boolean | null;
  dataKeyId: string | null;
  panCiphertext: Buffer | null;
  /** Set by the risk assessment once it has run. */
  risk?: Risk | null;
  /** Set on the delivery of a cardholder's answer to the attempt's alert. */
  answer?: AnswerFacts;
}

/** The cardholder's answer an answer event reports (see `answer-event.ts`). */
export interface AnswerFacts {
  alertId: string;
  answer: CardholderAnswer;
  answeredAt: number;
  caseId: string | null;
}

/**
 * `evt_` + the notification id: stable across deliveries and replays (Standard Webhooks
 * `webhook-id`).
 */
export function eventId(notificationId: string): string {
  return `evt_${notificationId}`;
}

/** `CTP_ENROLLMENT_ATTEMPT` → `ctp.enrollment_attempt`; also the RabbitMQ routing key. */
export function eventTypeName(visaEventType: string): string {
  return `ctp.${visaEventType.toLowerCase().replace(/^ctp_/, '')}`;
}

/**
 * Builds the event at delivery time from the stored row, so whatever was added to the row
 * after it was accepted (the risk assessment) is carried. The card number is decrypted only
 * when `includePan` is true.
 * @throws Error when `includePan` is true and the row's data key is not configured.
 */
export function buildEvent(
  src: EventSource,
  options: { includePan: boolean; dataProtector?: DataDecrypter | undefined },
): CtpEvent {
  const event: CtpEvent = {
    version: 1,
    id: eventId(src.notificationId),
    type: eventTypeName(src.eventType),
    notificationId: src.notificationId,
    receivedAt: new Date(src.receivedAt).toISOString(),
    tokenRequestorId: src.tokenRequestorId,
    eventType: src.eventType,
    tsp: src.tsp,
    card: eventCard(src, options),
    enroller: {
      firstName: src.firstName,
      lastName: src.lastName,
      contactEmail: src.contactEmail,
      phoneNumber: src.phoneNumber,
    },
  };
  if (src.risk !== undefined) event.risk = src.risk;
  return event;
}

/**
 * The event's `card`: BIN, last four, fingerprint, and the card number itself only when
 * `includePan` is true.
 * @throws Error when `includePan` is true and the row's data key is not configured.
 */
export function eventCard(
  src: EventSource,
  options: { includePan: boolean; dataProtector?: DataDecrypter | undefined },
): CtpEvent['card'] {
  let card: CtpEvent['card'] = null;
  if (src.panBin !== null && src.panLast4 !== null && src.panFingerprint !== null) {
    card = {
      bin: src.panBin,
      last4: src.panLast4,
      fingerprint: src.panFingerprint,
      luhnValid: src.panLuhnValid ?? false,
    };
    if (options.includePan) {
      if (!options.dataProtector || src.dataKeyId === null || src.panCiphertext === null)
        throw new Error('card number not decryptable');
      card.pan = options.dataProtector
        .decrypt(src.dataKeyId, src.panCiphertext, src.dedupKey)
        .toString('ascii');
    }
  }
  return card;
}
