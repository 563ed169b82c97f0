import type { Config } from '../../config/config-schema.js';
import { parseWebhookSecret } from '../../delivery/standard-webhooks.js';
import { ConfigError } from '../../errors.js';
import { resolveSecret, type SecretContext, secretField } from '../../keys/resolve-secret.js';
import type { AlertSink } from './alert-sink.js';
import { EmailAlertSink } from './email-alert-sink.js';
import { WebhookAlertSink } from './webhook-alert-sink.js';

/**
 * The alert channel of `risk.alert.sink` (the bank's SMTP relay or its messaging webhook), its
 * secrets read with `ctx`; undefined when alerts are off.
 * @throws ConfigError when a secret is missing or malformed, naming its field.
 */
export function createAlertSink(config: Config, ctx: SecretContext): AlertSink | undefined {
  const sink = config.risk.alert?.sink;
  if (sink === undefined) return undefined;
  if (sink.type === 'email') {
    return new EmailAlertSink({
      ...sink,
      password: sink.password
        ? resolveSecret(sink.password, '/risk/alert/sink/password', ctx)
        : undefined,
    });
  }
  return new WebhookAlertSink({
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
