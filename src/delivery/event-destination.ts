import { buildAnswerEvent } from '../events/answer-event.js';
import { buildEvent } from '../events/ctp-event.js';
import type { DataDecrypter } from '../protect/data-protector.js';
import type { Destination, SendResult } from './destination.js';
import type { Sink } from './sink.js';

/**
 * A sink as the outbox worker's destination: each claimed row becomes its event (the enrollment
 * attempt, or the cardholder's answer to its alert), built from the stored notification and
 * serialised once per attempt. `dataProtector` decrypts the card number for sinks with
 * `includePan`.
 */
export function eventDestination(sink: Sink, dataProtector: DataDecrypter): Destination {
  const options = { includePan: sink.includePan, dataProtector };
  return {
    name: sink.name,
    async send(d): Promise<SendResult> {
      let event: { id: string; type: string };
      try {
        event = d.source.answer
          ? buildAnswerEvent(d.source, options)
          : buildEvent(d.source, options);
      } catch {
        // Never the error itself: building touches card data.
        return { ok: false, error: 'EVENT_BUILD_FAILED' };
      }
      const result = await sink.deliver({
        id: event.id,
        type: event.type,
        body: Buffer.from(JSON.stringify(event), 'utf8'),
      });
      return { ...result, messageId: event.id };
    },
    close: () => sink.close(),
  };
}
