import type { Config } from './config/config-schema.js';
import { ConfigError } from './errors.js';
import { type IssuerKeys, protectorsOf, type Secrets } from './keys/load-secrets.js';

/**
 * What a reload may change is the issuers: their endpoints, decryption keys, X-Pay-Token
 * secrets, token requestor ids and card ranges, and new issuers' data keys. Everything else was
 * made at start from the configuration and stays until a restart: the listener and how it
 * authenticates Visa (TLS, the client CA and pin, `jose`), the sinks (the outbox worker's lanes),
 * the token, risk. A file that changes any of it is refused, naming the first field, rather than
 * applied in part.
 * @throws ConfigError naming the field.
 */
export function checkReloadable(running: Config, next: Config): void {
  for (const issuer of next.issuers) {
    const before = running.issuers.find((i) => i.id === issuer.id);
    if (JSON.stringify(issuer.sinks) !== JSON.stringify(before?.sinks ?? []))
      throw new ConfigError(
        `${issuer.at}/sinks`,
        "an issuer's sinks change with a restart, not a reload",
      );
  }
  const { issuers: _r, ...runningRest } = running;
  const { issuers: _n, ...nextRest } = next;
  const keys = new Set([...Object.keys(runningRest), ...Object.keys(nextRest)]);
  for (const key of keys) {
    const a = JSON.stringify((runningRest as Record<string, unknown>)[key]);
    const b = JSON.stringify((nextRest as Record<string, unknown>)[key]);
    if (a !== b)
      throw new ConfigError(
        `/${key}`,
        'changes with a restart, not a reload (a reload changes issuers)',
      );
  }
  // The assessment runs for the one issuer it started with, on that issuer's directory,
  // fingerprinted with its key.
  if (running.risk.enabled) {
    const [was] = running.issuers;
    const [now, ...more] = next.issuers;
    if (more.length > 0 || now?.id !== was?.id)
      throw new ConfigError(
        '/risk/enabled',
        'risk assessment serves one issuer, the one it started with',
      );
  }
}

/**
 * Checks a reload's keys against the running ones: a data key id keeps its issuer and its key
 * for good (rows name it), and a running issuer keeps its fingerprint key (fingerprints are
 * look-up keys).
 * @throws ConfigError naming the field.
 */
export function checkKeyBindings(
  next: Config,
  loaded: ReadonlyMap<string, IssuerKeys>,
  secrets: Secrets,
): void {
  const id = secrets.dataKeyring.conflict(protectorsOf(loaded));
  if (id !== undefined) {
    const issuer = next.issuers.find((i) => i.dataProtection.keys.some((k) => k.id === id));
    const i = issuer?.dataProtection.keys.findIndex((k) => k.id === id) ?? 0;
    throw new ConfigError(
      `${issuer?.at ?? ''}/dataProtection/keys/${i}/id`,
      "names another key, or another issuer's: a data key id is never reused",
    );
  }
  for (const issuer of next.issuers) {
    const before = secrets.issuers.get(issuer.id)?.dataProtector;
    const after = loaded.get(issuer.id)?.dataProtector;
    if (before && after && !before.sameFingerprintKey(after))
      throw new ConfigError(
        `${issuer.at}/dataProtection/fingerprintKey`,
        'the fingerprint key of a running issuer changes with a restart, not a reload',
      );
  }
}
