import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import type { ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../errors.js';
import { checkSinks } from './check-sinks.js';
import { checkRisk } from './check-risk.js';
import { ConfigSchema, type Config } from './config-schema.js';

/**
 * Validates a parsed configuration object against {@link ConfigSchema}, fills defaults, and
 * resolves relative file paths against `baseDir`.
 *
 * @throws ConfigError naming the first offending field as a JSON pointer (e.g. `/listen/port`).
 */
export function parseConfig(input: unknown, baseDir: string): Config {
  const value = Value.Default(ConfigSchema, structuredClone(input));
  const errors = [...Value.Errors(ConfigSchema, value)];
  if (errors.length > 0) {
    // Name every offending field (up to five), not only the first: one edit-restart per mistake is slow.
    const byPath = new Map<string, string>();
    for (const e of errors) {
      const precise = variantError(e);
      if (!byPath.has(precise.path)) byPath.set(precise.path, precise.message);
    }
    const [first, ...rest] = [...byPath].slice(0, 5);
    const more = rest.map(([p, m]) => `; config ${p || '/'}: ${m}`).join('');
    throw new ConfigError(first![0], `${first![1]}${more}`);
  }
  const config = value as Config;

  if ((config.listen.headersTimeoutMs ?? 0) > config.listen.requestTimeoutMs) {
    throw new ConfigError('/listen/headersTimeoutMs', 'must not exceed /listen/requestTimeoutMs');
  }
  const xpt = config.auth.xPayToken;
  if (xpt) {
    const given = [xpt.sharedSecret, xpt.sharedSecretFile, xpt.sharedSecretEnv].filter((v) => v !== undefined).length;
    if (given !== 1) throw new ConfigError('/auth/xPayToken', 'give exactly one of sharedSecret, sharedSecretFile, sharedSecretEnv');
  }
  config.dataProtection.keys.forEach((k, i) => exactlyOneSource(k, `/dataProtection/keys/${i}`));
  exactlyOneSource(config.dataProtection.fingerprintKey, '/dataProtection/fingerprintKey');
  const ids = new Set<string>();
  config.dataProtection.keys.forEach((k, i) => {
    if (ids.has(k.id)) throw new ConfigError(`/dataProtection/keys/${i}/id`, 'duplicate data key id');
    ids.add(k.id);
  });
  uniqueKids(config.keys.decryption, '/keys/decryption');
  uniqueKids(config.keys.verification, '/keys/verification');

  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  if (config.listen.tls) {
    config.listen.tls.cert = abs(config.listen.tls.cert);
    config.listen.tls.key = abs(config.listen.tls.key);
    if (config.listen.tls.clientCa) config.listen.tls.clientCa = abs(config.listen.tls.clientCa);
  }
  for (const k of config.keys.decryption) {
    k.privateKey = abs(k.privateKey);
    if (k.certificate) k.certificate = abs(k.certificate);
  }
  if (config.admin?.tls) {
    config.admin.tls.cert = abs(config.admin.tls.cert);
    config.admin.tls.key = abs(config.admin.tls.key);
  }
  if (config.admin && config.admin.port !== 0 && config.admin.port === config.listen.port) {
    throw new ConfigError('/admin/port', "the admin listener must not share Visa's listener");
  }
  for (const k of config.keys.verification) k.certificate = abs(k.certificate);
  for (const k of config.dataProtection.keys) if (k.file) k.file = abs(k.file);
  if (config.dataProtection.fingerprintKey.file) config.dataProtection.fingerprintKey.file = abs(config.dataProtection.fingerprintKey.file);
  if (xpt?.sharedSecretFile) xpt.sharedSecretFile = abs(xpt.sharedSecretFile);
  checkSinks(config, abs);
  checkRisk(config, abs);
  if (config.storage.url.startsWith('sqlite:')) {
    const path = config.storage.url.slice('sqlite:'.length);
    if (path === '') throw new ConfigError('/storage/url', 'sqlite: needs a file path');
    if (path !== ':memory:') config.storage.url = `sqlite:${abs(path)}`;
  }
  return config;
}

/** Reads and validates a JSON configuration file. Relative paths resolve against its folder. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError('', `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    throw new ConfigError('', `${file} is not valid JSON`);
  }
  return parseConfig(input, dirname(resolve(file)));
}

/**
 * For a union told apart by a `type` member (the sinks), the first error of the variant whose
 * `type` matches, defaults applied, so the message names the offending field rather than
 * "Expected union value".
 */
function variantError(error: ValueError): { path: string; message: string } {
  const variants = (error.schema as { anyOf?: TSchema[] }).anyOf;
  const type = (error.value as { type?: unknown } | null)?.type;
  if (variants === undefined || typeof type !== 'string') return error;
  const variant = variants.find((v) => (v as { properties?: { type?: { const?: unknown } } }).properties?.type?.const === type);
  if (variant === undefined) return { path: `${error.path}/type`, message: 'unknown type' };
  const inner = Value.Errors(variant, Value.Default(variant, structuredClone(error.value))).First();
  return inner === undefined ? error : { path: `${error.path}${inner.path}`, message: inner.message };
}

function exactlyOneSource(s: { file?: string | undefined; env?: string | undefined }, field: string): void {
  if ((s.file === undefined) === (s.env === undefined)) throw new ConfigError(field, 'give exactly one of file, env');
}

function uniqueKids(list: readonly { kid: string }[], field: string): void {
  const seen = new Set<string>();
  list.forEach((k, i) => {
    if (seen.has(k.kid)) throw new ConfigError(`${field}/${i}/kid`, 'duplicate kid');
    seen.add(k.kid);
  });
}
