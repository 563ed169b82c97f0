import type { Config } from '../../config/config-schema.js';
import { parseWebhookSecret } from '../../delivery/standard-webhooks.js';
import { ConfigError } from '../../errors.js';
import { resolveSecret, type SecretContext, secretField } from '../../keys/resolve-secret.js';
import type { AlertChannel } from './alert-channel.js';
import { EmailAlertChannel } from './email-alert-channel.js';
import { WebhookAlertChannel } from './webhook-alert-channel.js';

/**
 * The alert channel of `risk.alert.sink` (the bank's SMTP relay or its messaging webhook), its
 * secrets read with `ctx`; undefined when alerts are off.
 * @throws ConfigError when a secret is missing or malformed, naming its field.
 */
export function createAlertChannel(
  alert: NonNullable<Config['risk']['alert']>,
  ctx: SecretContext,
): AlertChannel | undefined {
  const sink = alert.sink;
  if (sink === undefined) return undefined;
  if (sink.type === 'email') {
    return new EmailAlertChannel({
      ...sink,
      password: sink.password
        ? resolveSecret(sink.password, '/risk/alert/sink/password', ctx)
        : undefined,
    });
  }
  return new WebhookAlertChannel({
    url: sink.url,
    timeoutMs: sink.timeoutMs,
    keys: sink.secrets.map((s, i) => {
      const field = `/risk/alert/sink/secrets/${i}`;
      try {
        return parseWebhookSecret(resolveSecret(s, field, ctx));
      } catch (e) {
        throw e instanceof ConfigError
          ? e
          : new ConfigError(secretField(s, field), (e as Error).message);
      }
    }),
  });
}
