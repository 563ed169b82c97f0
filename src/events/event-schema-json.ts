import { AnswerEventSchema } from './answer-event.js';
import { CtpEventSchema } from './ctp-event.js';

/** The published text of `schemas/ctp-event.v1.json` (TypeBox's own symbols are not JSON). */
export function eventSchemaJson(): string {
  return `${JSON.stringify(CtpEventSchema, null, 2)}\n`;
}

/** The published text of `schemas/ctp-cardholder-answer.v1.json`. */
export function answerEventSchemaJson(): string {
  return `${JSON.stringify(AnswerEventSchema, null, 2)}\n`;
}
