import { CtpEventSchema } from './ctp-event.js';

/** The published text of `schemas/ctp-event.v1.json` (TypeBox's own symbols are not JSON). */
export function eventSchemaJson(): string {
  return `${JSON.stringify(CtpEventSchema, null, 2)}\n`;
}
