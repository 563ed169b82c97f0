import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Config } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';
import { ALL_ISSUERS, type IssuerScope, onlyIssuers } from '../domain/issuer-scope.js';
import { createLogger, type Logger } from '../logger.js';
import { DEV, devHome } from './dev-setup.js';

/**
 * Thrown for wrong command-line use: printed without a stack, with the command's usage, exit code
 * 2.
 */
export class UsageError extends Error {}

/** The message for a missing or unknown subcommand. */
export function subcommandMessage(sub: string | undefined): string {
  return sub === undefined || sub.startsWith('-')
    ? 'give a subcommand'
    : `unknown subcommand "${sub}"`;
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * `--config FILE`, else `$CTP_NOTIFY_CONFIG` (for containers and units), else the development
 * setup's config if there is one.
 */
export function configPathFrom(flag: string | undefined): string {
  const given = explicitConfigPath(flag);
  if (given) return given;
  const dev = join(devHome(), DEV.config);
  if (existsSync(dev)) return dev;
  throw new UsageError(
    'no --config given, CTP_NOTIFY_CONFIG unset, and no development setup found (run `npm start` once, or pass --config FILE)',
  );
}

/** The config file named by `--config` or `$CTP_NOTIFY_CONFIG`, if either is given. */
export function explicitConfigPath(flag: string | undefined): string | undefined {
  return flag || process.env.CTP_NOTIFY_CONFIG || undefined;
}

export function loadConfigFrom(flag: string | undefined): { config: Config; path: string } {
  const path = configPathFrom(flag);
  return { config: loadConfig(path), path };
}

/** Logger for maintenance commands: warnings and errors only, to stderr. */
export function cliLogger(): Logger {
  return createLogger(process.env.CTP_NOTIFY_LOG_LEVEL ?? 'warn', {
    write: (s: string) => process.stderr.write(s),
  });
}

/**
 * The issuer a command acts for: `--issuer ID`, one of the configured issuers; required when
 * there are several, else the one.
 * @throws UsageError naming the choices.
 */
export function issuerFlag(config: Config, flag: string | undefined): string {
  const ids = config.issuers.map((i) => i.id);
  if (flag === undefined) {
    if (ids.length === 1) return ids[0] as string;
    throw new UsageError(`--issuer is required: one of ${ids.join(', ')}`);
  }
  if (!ids.includes(flag)) throw new UsageError(`--issuer must be one of ${ids.join(', ')}`);
  return flag;
}

/**
 * The issuers a command acts on: `--issuer ID` (see {@link issuerFlag}), or every configured
 * issuer's with `--all-issuers` (processor staff).
 * @throws UsageError when both are given, or neither with several issuers.
 */
export function scopeFlag(
  config: Config,
  issuer: string | undefined,
  allIssuers: boolean | undefined,
): IssuerScope {
  if (allIssuers) {
    if (issuer !== undefined) throw new UsageError('--issuer and --all-issuers exclude each other');
    return ALL_ISSUERS;
  }
  return onlyIssuers([issuerFlag(config, issuer)]);
}

export function intFlag(v: string | undefined, name: string, fallback: number, min = 1): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}`);
  return n;
}

/** Prints rows as aligned columns. */
export function printTable(header: string[], rows: string[][], empty: string): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(header)}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
  if (rows.length === 0) process.stdout.write(`${empty}\n`);
}
