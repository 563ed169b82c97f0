import type { Config } from '../../config/config-schema.js';
import type { Destination, SendResult } from '../../delivery/destination.js';
import type { RiskLevel } from '../../domain/risk-codes.js';
import type { DataProtector } from '../../protect/data-protector.js';
import { type AlertChannel, type AlertRecipient, AlertSendError } from './alert-channel.js';
import { alertLanguage, renderAlert } from './alert-templates.js';

type AlertConfig = NonNullable<Config['risk']['alert']>;

/**
 * The cardholder alert channel as a destination of the outbox worker: each claimed alert message
 * is rendered in the cardholder's language from its alert row (the contacts decrypted only now,
 * and dropped once sent) and handed to the bank's SMTP relay or messaging webhook. A failure's
 * code is the result, never its text; `permanent` ones (no recipient) are dead at once.
 */
export function alertDestination(
  name: string,
  sink: AlertChannel,
  config: AlertConfig,
  dataProtector: DataProtector,
): Destination {
  return {
    name,
    async send(d): Promise<SendResult> {
      const a = d.alert;
      if (a === undefined) return { ok: false, error: 'NOT_AN_ALERT', permanent: true };
      // Sent already, by a sender of the previous release during a rolling upgrade: not twice.
      if (a.status === 'sent') return { ok: true, messageId: a.id };
      try {
        if (a.recipientCiphertext === null || a.dataKeyId === null)
          throw new AlertSendError('NO_RECIPIENT', true);
        const recipient = JSON.parse(
          dataProtector.decrypt(a.dataKeyId, a.recipientCiphertext, a.id).toString('utf8'),
        ) as AlertRecipient;
        const language = alertLanguage(a.language, config.defaultLanguage);
        const message = renderAlert(language, {
          firstName: recipient.firstName,
          last4: d.source.panLast4,
          receivedAt: d.source.receivedAt,
          level: a.level as RiskLevel,
          bankName: config.bankName,
          helpContact: config.helpContact,
          timeZone: config.timeZone,
        });
        await sink.send({
          id: a.id,
          notificationId: d.source.notificationId,
          cardFingerprint: a.cardFingerprint,
          last4: d.source.panLast4,
          level: a.level,
          receivedAt: d.source.receivedAt,
          message,
          recipient,
        });
        return { ok: true, messageId: a.id };
      } catch (error) {
        const e = error instanceof AlertSendError ? error : new AlertSendError('ALERT_FAILED');
        return {
          ok: false,
          error: e.code,
          messageId: a.id,
          ...(e.permanent ? { permanent: true } : {}),
          ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
        };
      }
    },
    close: () => sink.close(),
  };
}
