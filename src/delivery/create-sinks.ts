import { readFileSync } from 'node:fs';
import type { Config } from '../config/config-schema.js';
import type { RabbitMqSinkConfig, WebhookSinkConfig } from '../config/delivery-schema.js';
import { ConfigError } from '../errors.js';
import {
  logSecretWarnings,
  resolveSecret,
  type SecretContext,
  secretContext,
  secretField,
} from '../keys/resolve-secret.js';
import type { Logger } from '../logger.js';
import { RabbitMqSink } from './rabbitmq-sink.js';
import type { Sink } from './sink.js';
import { parseWebhookSecret } from './standard-webhooks.js';
import { WebhookSink } from './webhook-sink.js';

/**
 * Builds every configured sink, loading its secrets once: webhook signing secrets (each
 * reference may hold several, one per line or space-separated) and a broker password, by file
 * (owner-only) or environment variable. Loose files allowed by allowInsecureKeyPermissions are
 * logged at error level.
 * @throws ConfigError naming the field when a secret is missing or malformed.
 */
export function createSinks(
  config: Config,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Sink[] {
  const ctx = secretContext(config, env);
  const sinks = config.sinks.map((s): Sink => {
    const at = s.at;
    if (s.type === 'webhook') return webhookSink(s, at, ctx);
    return rabbitMqSink(s, at, ctx, logger);
  });
  logSecretWarnings(logger, ctx.warnings);
  return sinks;
}

function webhookSink(s: WebhookSinkConfig, at: string, ctx: SecretContext): WebhookSink {
  const keys = s.secrets.flatMap((ref, j) => {
    const field = `${at}/secrets/${j}`;
    const texts = resolveSecret(ref, field, ctx)
      .split(/\s+/)
      .filter((t) => t !== '');
    if (texts.length === 0)
      throw new ConfigError(secretField(ref, field), 'no webhook secret given');
    return texts.map((t) => {
      try {
        return parseWebhookSecret(t);
      } catch (e) {
        throw new ConfigError(secretField(ref, field), (e as Error).message);
      }
    });
  });
  let ca: Buffer | undefined;
  if (s.caFile) {
    try {
      ca = readFileSync(s.caFile);
    } catch {
      throw new ConfigError(`${at}/caFile`, `cannot read ${s.caFile}`);
    }
  }
  return new WebhookSink({
    name: s.name,
    url: s.url,
    keys,
    timeoutMs: s.timeoutMs,
    includePan: s.includePan,
    ca,
  });
}

function rabbitMqSink(
  s: RabbitMqSinkConfig,
  at: string,
  ctx: SecretContext,
  logger: Logger,
): RabbitMqSink {
  const password = s.password ? resolveSecret(s.password, `${at}/password`, ctx) : undefined;
  let url: URL;
  try {
    url = new URL(s.url);
  } catch {
    throw new ConfigError(`${at}/url`, 'not a URL');
  }
  if (password !== undefined) url.password = password;
  return new RabbitMqSink({
    name: s.name,
    url: url.toString(),
    exchange: s.exchange,
    mandatory: s.mandatory,
    timeoutMs: s.timeoutMs,
    includePan: s.includePan,
    logger,
  });
}
