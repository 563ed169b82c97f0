import { readFileSync, statSync } from 'node:fs';
import type { SecretRef } from '../config/secret-ref.js';
import { ConfigError } from '../errors.js';

/** What reading a secret needs; `warnings` collects the lines to log at error level. */
export interface SecretContext {
  /** From the config; default false. */
  allowInsecureKeyPermissions: boolean;
  env: NodeJS.ProcessEnv;
  /** Appended to when a loose file is allowed; the caller logs them with logSecretWarnings. */
  warnings: string[];
}

/** A context for `config`, with an empty warning list. `env` defaults to `process.env`. */
export function secretContext(
  config: { allowInsecureKeyPermissions: boolean },
  env: NodeJS.ProcessEnv = process.env,
): SecretContext {
  return { allowInsecureKeyPermissions: config.allowInsecureKeyPermissions, env, warnings: [] };
}

/** Logs each warning a secret context collected: one error line, code INSECURE_KEY_PERMISSIONS. */
export function logSecretWarnings(
  logger: { error(obj: object, msg: string): void },
  warnings: readonly string[],
): void {
  for (const w of warnings) logger.error({ code: 'INSECURE_KEY_PERMISSIONS' }, w);
}

/** The JSON pointer of the member that gives the secret: `${field}/file` or `${field}/env`. */
export function secretField(ref: SecretRef, field: string): string {
  return 'file' in ref ? `${field}/file` : `${field}/env`;
}

/**
 * The text of a secret: the file's content (checked like every key file, see
 * {@link readSecretFile}) or the environment variable's value, without surrounding whitespace
 * (a file's trailing newline is not part of the secret).
 * @throws ConfigError naming `${field}/file` or `${field}/env` (never the secret).
 */
export function resolveSecret(ref: SecretRef, field: string, ctx: SecretContext): string {
  if ('file' in ref) return readSecretFile(ref.file, `${field}/file`, ctx).toString('utf8').trim();
  const v = ctx.env[ref.env];
  if (!v) throw new ConfigError(`${field}/env`, `environment variable ${ref.env} is not set`);
  return v.trim();
}

/**
 * Reads a private key or secret file, refusing one readable by group or others unless
 * `allowInsecureKeyPermissions` (then a warning naming `field` is pushed for the log).
 * @throws ConfigError naming `field`.
 */
export function readSecretFile(path: string, field: string, ctx: SecretContext): Buffer {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw new ConfigError(field, `cannot read ${path}`);
  }
  if ((mode & 0o077) !== 0) {
    if (!ctx.allowInsecureKeyPermissions) {
      throw new ConfigError(
        field,
        `${path} is readable by group or others (chmod 600, or set allowInsecureKeyPermissions)`,
      );
    }
    ctx.warnings.push(
      `${field}: ${path} is readable by group or others; allowed by allowInsecureKeyPermissions`,
    );
  }
  return readFileSync(path);
}
