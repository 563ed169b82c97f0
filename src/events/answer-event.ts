import { type Static, Type } from '@sinclair/typebox';
import { CARDHOLDER_ANSWERS } from '../domain/case-codes.js';
import type { DataDecrypter } from '../protect/data-protector.js';
import { literalUnion } from '../util/literal-union.js';
import { TOKEN_REQUESTOR_ID_PATTERN } from '../visa/token-requestor-id.js';
import { CtpEventSchema, type EventSource, eventCard, eventId, RiskSchema } from './ctp-event.js';

/**
 * The event delivered to every sink when a cardholder answers "not recognised" to a "was this
 * you?" alert: the bank's systems block the card, delete its Click to Pay tokens and call the
 * cardholder. It names the attempt (its notification and enrollment event ids) and the card
 * (BIN, last four, fingerprint; the number only for sinks with includePan), never the enroller:
 * no name, email or phone. `schemas/ctp-cardholder-answer.v1.json` is this schema as JSON.
 */
export const AnswerEventSchema = Type.Object(
  {
    version: Type.Literal(1),
    id: Type.String({
      pattern: '^evt_[0-9a-f-]{36}$',
      description: 'evt_ + the alert id: one answer per alert, the same on every delivery.',
    }),
    type: Type.Literal('ctp.cardholder_answer'),
    // Published with "not recognised" first, the answer the event is for.
    answer: literalUnion([...CARDHOLDER_ANSWERS].reverse(), {
      description: 'What the cardholder said to "was this you?".',
    }),
    answeredAt: Type.String({ format: 'date-time' }),
    alertId: Type.String({ description: 'The alert answered (webhook alerts carry it as `id`).' }),
    caseId: Type.Union([Type.String(), Type.Null()], {
      description: 'The fraud case the attempt is in (GET /api/cases/{id}).',
    }),
    notificationId: Type.String({ description: 'The attempt the alert was about.' }),
    enrollmentEventId: Type.String({
      pattern: '^evt_[0-9a-f-]{36}$',
      description: "The id of the attempt's own event (ctp.enrollment_attempt), delivered before.",
    }),
    receivedAt: Type.String({ format: 'date-time', description: "When Visa's request arrived." }),
    tokenRequestorId: Type.String({ pattern: TOKEN_REQUESTOR_ID_PATTERN }),
    tsp: Type.Union([Type.String(), Type.Null()]),
    card: CtpEventSchema.properties.card,
    risk: Type.Union([RiskSchema, Type.Null()]),
  },
  {
    $id: 'urn:ctp-notify:cardholder-answer:v1',
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'ctp-notify cardholder answer event, version 1',
    additionalProperties: false,
  },
);

export type AnswerEvent = Static<typeof AnswerEventSchema>;

/**
 * Builds the answer event from the claimed delivery's row (`src.answer` set).
 * @throws Error when the row carries no answer, or `includePan` and the data key is missing.
 */
export function buildAnswerEvent(
  src: EventSource,
  options: { includePan: boolean; dataProtector?: DataDecrypter | undefined },
): AnswerEvent {
  const a = src.answer;
  if (a === undefined) throw new Error('not an answer delivery');
  return {
    version: 1,
    id: eventId(a.alertId),
    type: 'ctp.cardholder_answer',
    answer: a.answer,
    answeredAt: new Date(a.answeredAt).toISOString(),
    alertId: a.alertId,
    caseId: a.caseId,
    notificationId: src.notificationId,
    enrollmentEventId: eventId(src.notificationId),
    receivedAt: new Date(src.receivedAt).toISOString(),
    tokenRequestorId: src.tokenRequestorId,
    tsp: src.tsp,
    card: eventCard(src, options),
    risk: src.risk ?? null,
  };
}
