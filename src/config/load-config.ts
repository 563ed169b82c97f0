import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import type { ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../errors.js';
import { checkAdmin } from './check-admin.js';
import { checkListenTls } from './check-listen-tls.js';
import { checkRisk } from './check-risk.js';
import { checkSinks } from './check-sinks.js';
import { type Config, type ConfigInput, ConfigSchema } from './config-schema.js';
import { resolveFilePaths } from './file-path.js';
import { checkRenamedSecrets } from './renamed-secrets.js';
import { isSecretRefSchema, SECRET_REF_HINT } from './secret-ref.js';
import { asConfigFile, settleIssuers, settleSinks } from './settle-issuers.js';

/**
 * Validates a parsed configuration object against {@link ConfigSchema}, fills defaults, and
 * resolves relative file paths (the fields marked `FilePath` in the schema) against `baseDir`.
 * Secret spellings of earlier versions are refused first, saying what to write instead.
 *
 * @throws ConfigError naming the first offending field as a JSON pointer (e.g. `/listen/port`).
 */
export function parseConfig(input: unknown, baseDir: string): Config {
  checkRenamedSecrets(input);
  const value = Value.Default(ConfigSchema, structuredClone(input));
  const errors = [...Value.Errors(ConfigSchema, value)];
  if (errors.length > 0) {
    // Name every offending field (up to five), not only the first: one edit-restart per mistake is
    // slow.
    const byPath = new Map<string, string>();
    for (const e of errors) {
      const precise = variantError(e);
      if (!byPath.has(precise.path)) byPath.set(precise.path, precise.message);
    }
    const [first, ...rest] = [...byPath].slice(0, 5);
    const more = rest.map(([p, m]) => `; config ${p || '/'}: ${m}`).join('');
    throw new ConfigError(first![0], `${first![1]}${more}`);
  }
  const checked = value as ConfigInput;

  if ((checked.listen.headersTimeoutMs ?? 0) > checked.listen.requestTimeoutMs) {
    throw new ConfigError('/listen/headersTimeoutMs', 'must not exceed /listen/requestTimeoutMs');
  }
  uniqueKids(checked.keys.verification, '/keys/verification');
  if (checked.hsm) {
    const byLabel = checked.hsm.token !== undefined;
    const bySlot = checked.hsm.slot !== undefined;
    if (byLabel === bySlot)
      throw new ConfigError('/hsm', 'give exactly one of "token" (its label) or "slot"');
  }
  if (checked.admin && checked.admin.port !== 0 && checked.admin.port === checked.listen.port) {
    throw new ConfigError('/admin/port', "the admin listener must not share Visa's listener");
  }
  resolveFilePaths(ConfigSchema, checked, baseDir);
  const {
    issuers: _issuers,
    issuersDir: _dir,
    auth: _auth,
    tokenRequestorIds: _trids,
    dataProtection: _dp,
    keys,
    ...rest
  } = checked;
  const issuers = settleIssuers(checked, baseDir);
  const config: Config = {
    ...rest,
    keys: { verification: keys.verification },
    issuers,
    sinks: settleSinks(checked.sinks, issuers),
  };
  Object.defineProperty(config, 'toJSON', {
    value: () => asConfigFile(config),
    enumerable: false,
  });
  checkListenTls(config);
  checkSinks(config);
  checkRisk(config);
  checkAdmin(config);
  // A URL, not a path field, so not marked FilePath: its sqlite: path is resolved here.
  if (config.storage.url.startsWith('sqlite:')) {
    const path = config.storage.url.slice('sqlite:'.length);
    if (path === '') throw new ConfigError('/storage/url', 'sqlite: needs a file path');
    if (path !== ':memory:') config.storage.url = `sqlite:${resolve(baseDir, path)}`;
  }
  return config;
}

/** Reads and validates a JSON configuration file. Relative paths resolve against its folder. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(
      '',
      `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`,
    );
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
 * For a union, the first error of the variant the value was meant for, defaults applied, so the
 * message names the offending field rather than "Expected union value": the sinks and the like
 * are told apart by their `type` member, a secret reference by `file` or `env`.
 */
function variantError(error: ValueError): { path: string; message: string } {
  const variants = (error.schema as { anyOf?: TSchema[] }).anyOf;
  if (variants === undefined) return error;
  const value = error.value as Record<string, unknown> | null;
  let variant: TSchema | undefined;
  if (isSecretRefSchema(error.schema)) {
    const has = (k: string) => typeof value === 'object' && value !== null && k in value;
    if (has('file') === has('env')) return { path: error.path, message: SECRET_REF_HINT };
    const key = has('file') ? 'file' : 'env';
    variant = variants.find(
      (v) => (v as { properties?: Record<string, unknown> }).properties?.[key] !== undefined,
    );
  } else {
    const type = value?.type;
    if (typeof type !== 'string') return error;
    variant = variants.find(
      (v) =>
        (v as { properties?: { type?: { const?: unknown } } }).properties?.type?.const === type,
    );
    if (variant === undefined) return { path: `${error.path}/type`, message: 'unknown type' };
  }
  const inner =
    variant && Value.Errors(variant, Value.Default(variant, structuredClone(error.value))).First();
  if (inner === undefined) return error;
  const precise = variantError(inner);
  return { path: `${error.path}${precise.path}`, message: precise.message };
}

function uniqueKids(list: readonly { kid: string }[], field: string): void {
  const seen = new Set<string>();
  list.forEach((k, i) => {
    if (seen.has(k.kid)) throw new ConfigError(`${field}/${i}/kid`, 'duplicate kid');
    seen.add(k.kid);
  });
}
