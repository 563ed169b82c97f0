import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { DEFAULT_ISSUER_ID } from '../domain/issuer-ids.js';
import { ConfigError } from '../errors.js';
import { checkBinRanges } from './check-bin-ranges.js';
import type { Config, ConfigInput, IssuerSettings, SettledSink } from './config-schema.js';
import type { SinkConfig } from './delivery-schema.js';
import { resolveFilePaths } from './file-path.js';
import { type IssuerConfig, IssuerSchema } from './issuer-schema.js';

/** The fields that belong to an issuer, at the top of a configuration without `issuers`. */
const ISSUER_FIELDS_AT_TOP = [
  ['/keys/decryption', (c: ConfigInput) => c.keys.decryption],
  ['/auth/xPayToken', (c: ConfigInput) => c.auth.xPayToken],
  ['/tokenRequestorIds', (c: ConfigInput) => c.tokenRequestorIds],
  ['/dataProtection', (c: ConfigInput) => c.dataProtection],
] as const;

/**
 * The issuers of a validated configuration (paths already resolved in `issuers`): those of
 * `issuers`, then one per file of `issuersDir` (in name order), or, with neither, the one issuer
 * `default` made of the top-level fields. Checks what a schema cannot say: unique ids, base
 * paths and data key ids, one issuer's kids, token keys only with `hsm`.
 *
 * @throws ConfigError naming the field (a file of `issuersDir` by its path).
 */
export function settleIssuers(input: ConfigInput, baseDir: string): IssuerSettings[] {
  const listed: IssuerSettings[] = (input.issuers ?? []).map((issuer, i) =>
    settled(issuer, `/issuers/${i}`),
  );
  if (input.issuersDir !== undefined) listed.push(...readIssuersDir(input.issuersDir, baseDir));
  let issuers: IssuerSettings[];
  if (input.issuers !== undefined || input.issuersDir !== undefined) {
    for (const [field, get] of ISSUER_FIELDS_AT_TOP)
      if (get(input) !== undefined)
        throw new ConfigError(field, 'with `issuers`, this belongs in each issuer');
    if (listed.length === 0) throw new ConfigError('/issuersDir', 'holds no issuer file (*.json)');
    issuers = listed;
  } else {
    if (input.keys.decryption === undefined)
      throw new ConfigError('/keys/decryption', 'required (or configure `issuers`)');
    if (input.dataProtection === undefined)
      throw new ConfigError('/dataProtection', 'required (or configure `issuers`)');
    const only: IssuerConfig = {
      id: DEFAULT_ISSUER_ID,
      basePath: '',
      sinks: [],
      keys: { decryption: input.keys.decryption },
      auth: input.auth,
      dataProtection: input.dataProtection,
      ...(input.tokenRequestorIds ? { tokenRequestorIds: input.tokenRequestorIds } : {}),
    };
    issuers = [settled(only, '')];
  }
  checkAcross(issuers, input.hsm !== undefined);
  return issuers;
}

function settled(issuer: IssuerConfig, at: string): IssuerSettings {
  const s = { ...issuer, name: issuer.name ?? issuer.id } as IssuerSettings;
  // Where errors point, not configuration: left out when the settled config is written back.
  Object.defineProperty(s, 'at', { value: at, enumerable: false });
  return s;
}

/**
 * Every sink of the deployment: the top-level ones, then each issuer's own (marked with its
 * issuer), each knowing the field its settings are named under.
 */
export function settleSinks(
  top: readonly SinkConfig[],
  issuers: readonly IssuerSettings[],
): SettledSink[] {
  const settledSink = (sink: SinkConfig, at: string, issuer?: string): SettledSink => {
    const s = { ...sink, ...(issuer === undefined ? {} : { issuer }) } as SettledSink;
    Object.defineProperty(s, 'at', { value: at, enumerable: false });
    return s;
  };
  return [
    ...top.map((sink, i) => settledSink(sink, `/sinks/${i}`)),
    ...issuers.flatMap((issuer) =>
      issuer.sinks.map((sink, i) => settledSink(sink, `${issuer.at}/sinks/${i}`, issuer.id)),
    ),
  ];
}

/**
 * The configuration file a settled configuration came from, for `JSON.stringify` (a copy
 * written for another process, a file a command writes): the `default` issuer's fields back at
 * the top, as they were given, so that field names in messages stay the same.
 */
export function asConfigFile(config: Config): Record<string, unknown> {
  const { issuers, keys, sinks: all, ...rest } = config;
  // An issuer's sinks are written with it.
  const sinks = all.filter((s) => s.issuer === undefined);
  const only = issuers[0];
  if (issuers.length === 1 && only !== undefined && only.at === '') {
    return {
      ...rest,
      sinks,
      keys: { ...keys, decryption: only.keys.decryption },
      auth: only.auth,
      dataProtection: only.dataProtection,
      ...(only.tokenRequestorIds ? { tokenRequestorIds: only.tokenRequestorIds } : {}),
    };
  }
  return { ...rest, sinks, keys, issuers };
}

/** One issuer per `*.json` file, validated like an item of `issuers`. */
function readIssuersDir(dir: string, baseDir: string): IssuerSettings[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    throw new ConfigError('/issuersDir', `cannot read the folder ${dir}`);
  }
  return files.map((f) => {
    const path = join(dir, f);
    const at = `${path}#`;
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      throw new ConfigError(at, 'not a readable JSON file');
    }
    value = Value.Default(IssuerSchema, value);
    const error = Value.Errors(IssuerSchema, value).First();
    if (error) throw new ConfigError(`${at}${error.path}`, error.message);
    resolveFilePaths(IssuerSchema, value, baseDir);
    return settled(value as IssuerConfig, at);
  });
}

function checkAcross(issuers: readonly IssuerSettings[], hasToken: boolean): void {
  const ids = new Map<string, string>();
  const paths = new Map<string, string>();
  const dataKeyIds = new Set<string>();
  // One issuer's private key at another's endpoint would open the other's messages there.
  const decryptionKeys = new Set<string>();
  for (const issuer of issuers) {
    const at = issuer.at;
    if (ids.has(issuer.id)) throw new ConfigError(`${at}/id`, 'duplicate issuer id');
    ids.set(issuer.id, at);
    if (paths.has(issuer.basePath))
      throw new ConfigError(`${at}/basePath`, 'another issuer has this base path');
    paths.set(issuer.basePath, at);
    if (issuer.basePath === '/vtis')
      throw new ConfigError(`${at}/basePath`, 'reserved: the start of the endpoint path');
    // Ciphertexts name their data key: ids unique across issuers keep every row readable by
    // its own issuer's key only.
    issuer.dataProtection.keys.forEach((k, i) => {
      if (dataKeyIds.has(k.id))
        throw new ConfigError(`${at}/dataProtection/keys/${i}/id`, 'duplicate data key id');
      dataKeyIds.add(k.id);
    });
    const kids = new Set<string>();
    issuer.keys.decryption.forEach((k, i) => {
      if (kids.has(k.kid)) throw new ConfigError(`${at}/keys/decryption/${i}/kid`, 'duplicate kid');
      kids.add(k.kid);
      if (decryptionKeys.has(keyLocation(k)))
        throw new ConfigError(
          `${at}/keys/decryption/${i}`,
          "another issuer's decryption key: each issuer has its own",
        );
    });
    for (const k of issuer.keys.decryption) decryptionKeys.add(keyLocation(k));
    checkBinRanges(issuer.binRanges, at);
    checkTokenKeys(issuer, hasToken);
  }
}

/** Where a decryption key is kept: its file, or its label in the token. */
function keyLocation(k: IssuerConfig['keys']['decryption'][number]): string {
  return k.privateKey !== undefined ? `file ${k.privateKey}` : `token ${k.hsm?.label ?? ''}`;
}

/** Each decryption key is a file or a token key; token keys and wrapped keys need `hsm`. */
function checkTokenKeys(issuer: IssuerSettings, hasToken: boolean): void {
  const at = issuer.at;
  let needsToken: string | undefined;
  issuer.keys.decryption.forEach((k, i) => {
    if ((k.privateKey === undefined) === (k.hsm === undefined))
      throw new ConfigError(
        `${at}/keys/decryption/${i}`,
        'give exactly one of "privateKey" or "hsm"',
      );
    if (k.hsm) needsToken ??= `${at}/keys/decryption/${i}/hsm`;
  });
  issuer.dataProtection.keys.forEach((k, i) => {
    if (k.wrappedBy) needsToken ??= `${at}/dataProtection/keys/${i}/wrappedBy`;
  });
  if (issuer.dataProtection.fingerprintKey.wrappedBy)
    needsToken ??= `${at}/dataProtection/fingerprintKey/wrappedBy`;
  if (needsToken !== undefined && !hasToken)
    throw new ConfigError(needsToken, 'a key in the token needs the top-level "hsm" block');
}
