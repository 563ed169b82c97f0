import { readFileSync } from 'node:fs';
import type { Config } from '../config/config-schema.js';
import type { RabbitMqSinkConfig, WebhookSinkConfig } from '../config/delivery-schema.js';
import { readSecretFileChecked } from '../config/load-secrets.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { RabbitMqSink } from './rabbitmq-sink.js';
import type { Sink } from './sink.js';
import { parseWebhookSecret } from './standard-webhooks.js';
import { WebhookSink } from './webhook-sink.js';

/**
 * Builds every configured sink, loading its secrets once: webhook signing secrets from the
 * config (development), a 0600 file (one per line) or an environment variable
 * (space-separated); a broker password from a file or a variable.
 * @throws ConfigError naming the field when a secret is missing or malformed.
 */
export function createSinks(config: Config, logger: Logger, env: NodeJS.ProcessEnv = process.env): Sink[] {
  const warnings: string[] = [];
  const sinks = config.sinks.map((s, i): Sink => {
    const at = `/sinks/${i}`;
    if (s.type === 'webhook') return webhookSink(s, at, config.allowInsecureKeyPermissions, warnings, env);
    return rabbitMqSink(s, at, config.allowInsecureKeyPermissions, warnings, env, logger);
  });
  for (const w of warnings) logger.error({ code: 'INSECURE_KEY_PERMISSIONS' }, w);
  return sinks;
}

function webhookSink(s: WebhookSinkConfig, at: string, allowInsecure: boolean, warnings: string[], env: NodeJS.ProcessEnv): WebhookSink {
  let texts: string[];
  let field: string;
  if (s.secrets) {
    texts = s.secrets;
    field = `${at}/secrets`;
  } else if (s.secretsFile) {
    field = `${at}/secretsFile`;
    texts = readSecretFileChecked(s.secretsFile, field, allowInsecure, warnings).toString('utf8').split(/\r?\n/);
  } else {
    field = `${at}/secretsEnv`;
    const v = env[s.secretsEnv as string];
    if (!v) throw new ConfigError(field, `environment variable ${s.secretsEnv} is not set`);
    texts = v.split(/\s+/);
  }
  texts = texts.map((t) => t.trim()).filter((t) => t !== '');
  if (texts.length === 0) throw new ConfigError(field, 'no webhook secret given');
  const keys = texts.map((t, j) => {
    try {
      return parseWebhookSecret(t);
    } catch (e) {
      throw new ConfigError(s.secrets ? `${field}/${j}` : field, (e as Error).message);
    }
  });
  let ca: Buffer | undefined;
  if (s.caFile) {
    try {
      ca = readFileSync(s.caFile);
    } catch {
      throw new ConfigError(`${at}/caFile`, `cannot read ${s.caFile}`);
    }
  }
  return new WebhookSink({ name: s.name, url: s.url, keys, timeoutMs: s.timeoutMs, includePan: s.includePan, ca });
}

function rabbitMqSink(
  s: RabbitMqSinkConfig,
  at: string,
  allowInsecure: boolean,
  warnings: string[],
  env: NodeJS.ProcessEnv,
  logger: Logger,
): RabbitMqSink {
  let password: string | undefined;
  if (s.passwordFile) {
    password = readSecretFileChecked(s.passwordFile, `${at}/passwordFile`, allowInsecure, warnings).toString('utf8').trim();
  } else if (s.passwordEnv) {
    password = env[s.passwordEnv];
    if (!password) throw new ConfigError(`${at}/passwordEnv`, `environment variable ${s.passwordEnv} is not set`);
  }
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
