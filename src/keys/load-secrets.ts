import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config, IssuerSettings } from '../config/config-schema.js';
import type { TokenKeyRef } from '../config/hsm-schema.js';
import type { SecretRef } from '../config/secret-ref.js';
import { ConfigError } from '../errors.js';
import { HsmToken } from '../hsm/hsm-token.js';
import { openTokenKey, type TokenDecryptionKey } from '../hsm/token-decryption-key.js';
import { type DecryptionKey, fileDecryptionKey } from '../jose/decryption-key.js';
import { readClientCrls } from '../pki/crl.js';
import { DataKeyring } from '../protect/data-keyring.js';
import { type DataKey, DataProtector } from '../protect/data-protector.js';
import {
  readSecretFile,
  resolveSecret,
  type SecretContext,
  secretContext,
  secretField,
} from './resolve-secret.js';

/** One issuer's keys and credentials. */
export interface IssuerKeys {
  /** By kid: keys read from files, and keys in the token (`hsm`). */
  decryptionKeys: Map<string, DecryptionKey>;
  /**
   * Expiry of the certificate configured beside a decryption key (`kid` → notAfter), when given.
   */
  decryptionCertificateExpiry: Map<string, Date>;
  /** Encrypts and fingerprints this issuer's card numbers and personal data. */
  dataProtector: DataProtector;
  xPayTokenSecret: Buffer | undefined;
}

/** Key material loaded once at start, never per request. */
export interface Secrets {
  verificationKeys: Map<string, KeyObject>;
  /** Expiry of each verification certificate given, for operators (`kid` → notAfter). */
  certificateExpiry: Map<string, Date>;
  /** Each issuer's keys, by issuer id, in configuration order. */
  issuers: Map<string, IssuerKeys>;
  /** Decrypts a row of any issuer by the data key id stored beside it (ids are unique). */
  dataKeyring: DataKeyring;
  /** Warnings to log at start (e.g. permissive key files allowed by flag). */
  warnings: string[];
  /**
   * When `listen.tls.crl` is set: the earliest nextUpdate of its CRLs (undefined when none has
   * one). Past it, OpenSSL refuses every client certificate: /readyz says so.
   */
  clientCrlNextUpdate?: Date | undefined;
  /** Headers for the trace collector (`telemetry.headers`), resolved; undefined when none. */
  telemetryHeaders?: Record<string, string> | undefined;
  /** Encrypts local operators' TOTP secrets (`admin.totpKey`), when configured. */
  totpKey?: Buffer | undefined;
  /** The console's OpenID Connect client secret, when `admin.oidc` is configured. */
  oidcClientSecret?: string | undefined;
  /** The PKCS#11 token, when `hsm` is configured: its health for /readyz. */
  token: HsmToken | undefined;
  /** Closes the token's sessions (nothing to do without one). */
  close(): void;
}

/** Each issuer's data protector, by issuer id. */
export function protectorsOf(issuers: ReadonlyMap<string, IssuerKeys>): Map<string, DataProtector> {
  return new Map([...issuers].map(([id, k]) => [id, k.dataProtector]));
}

/**
 * The first issuer's keys: those of the one issuer where only one may be configured (risk
 * assessment, its alerts, the directory import).
 */
export function soleIssuerKeys(secrets: Secrets): IssuerKeys {
  return secrets.issuers.values().next().value as IssuerKeys;
}

/** What the process wants to hear from its token. */
export interface SecretsHooks {
  /** Each token fault, by its CKR_… name (a metric counts them). */
  onTokenFault?: (tokenCode: string) => void;
}

/**
 * Loads every key and secret named by a validated config.
 *
 * Private key and secret files (decryption keys, the TLS server keys of both listeners, data and
 * fingerprint keys, the X-Pay-Token secret) must not be readable by group or others unless
 * `allowInsecureKeyPermissions` is true (then a warning is returned for the log).
 *
 * @throws ConfigError naming the field whose file or variable is missing or unusable.
 */
export function loadSecrets(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  hooks: SecretsHooks = {},
): Secrets {
  const ctx = secretContext(config, env);
  const token = config.hsm ? openToken(config.hsm, ctx, hooks) : undefined;
  try {
    return readAll(config, ctx, token);
  } catch (e) {
    token?.close();
    throw e;
  }
}

/**
 * Opens the token of `config.hsm` by itself (the key ceremony's commands): PIN resolved like
 * every secret, no key self-tests.
 * @throws ConfigError naming `/hsm` when the configuration has no token, or a field of it.
 */
export function openConfiguredToken(
  config: Config,
  options: { readWrite?: boolean; env?: NodeJS.ProcessEnv } = {},
): HsmToken {
  if (!config.hsm) throw new ConfigError('/hsm', 'the configuration names no token ("hsm")');
  return openToken(config.hsm, secretContext(config, options.env), {}, options.readWrite);
}

function openToken(
  hsm: NonNullable<Config['hsm']>,
  ctx: SecretContext,
  hooks: SecretsHooks,
  readWrite = false,
) {
  return HsmToken.open({
    readWrite,
    module: hsm.module,
    token: hsm.token,
    slot: hsm.slot,
    pin: resolveSecret(hsm.pin, '/hsm/pin', ctx),
    pinField: secretField(hsm.pin, '/hsm/pin'),
    sessions: hsm.sessions,
    reconnectMs: hsm.reconnectMs,
    libraryParameters: hsm.libraryParameters,
    ...(hooks.onTokenFault ? { onFault: hooks.onTokenFault } : {}),
  });
}

function readAll(config: Config, ctx: SecretContext, token: HsmToken | undefined): Secrets {
  // The TLS server keys are read by the listeners (app.ts, admin-app.ts); their permissions are
  // checked here, with every other private key, so that a loose one stops the process before
  // anything listens.
  if (config.listen.tls) readSecretFile(config.listen.tls.key, '/listen/tls/key', ctx);
  if (config.admin?.tls) readSecretFile(config.admin.tls.key, '/admin/tls/key', ctx);

  const clientCrlNextUpdate = readCrl(config.listen.tls, readPublicFile);

  const verificationKeys = new Map<string, KeyObject>();
  const certificateExpiry = new Map<string, Date>();
  config.keys.verification.forEach((k, i) => {
    const field = `/keys/verification/${i}/certificate`;
    const pem = readPublicFile(k.certificate, field);
    let key: KeyObject;
    try {
      if (pem.includes('BEGIN CERTIFICATE')) {
        const cert = new X509Certificate(pem);
        key = cert.publicKey;
        certificateExpiry.set(k.kid, new Date(cert.validTo));
      } else {
        key = createPublicKey(pem);
      }
    } catch {
      throw new ConfigError(field, 'not an X.509 certificate or SPKI public key PEM');
    }
    requireRsa(key, field);
    verificationKeys.set(k.kid, key);
  });

  const keks = new Map<string, TokenDecryptionKey>();
  const issuers = new Map<string, IssuerKeys>();
  for (const issuer of config.issuers)
    issuers.set(issuer.id, readIssuerKeys(issuer, ctx, token, keks, readPublicFile));
  separateSecrets(config.issuers, issuers);

  return {
    verificationKeys,
    certificateExpiry,
    issuers,
    dataKeyring: new DataKeyring(protectorsOf(issuers)),
    clientCrlNextUpdate,
    totpKey: config.admin?.totpKey ? readTotpKey(config.admin.totpKey, ctx) : undefined,
    telemetryHeaders: config.telemetry?.headers
      ? Object.fromEntries(
          Object.entries(config.telemetry.headers).map(([name, ref]) => [
            name,
            resolveSecret(ref, `/telemetry/headers/${name}`, ctx),
          ]),
        )
      : undefined,
    oidcClientSecret: config.admin?.oidc
      ? resolveSecret(config.admin.oidc.clientSecret, '/admin/oidc/clientSecret', ctx)
      : undefined,
    warnings: ctx.warnings,
    token,
    close: () => token?.close(),
  };
}

function readPublicFile(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(field, `cannot read ${path}`);
  }
}

/**
 * The keys of a configuration's issuers, read again (a reload of the issuers) with the token the
 * process opened at start: every key checked as at start, fields named the same way.
 * @throws ConfigError naming the field; `/hsm` when a key needs a token the process has not open.
 */
export function loadIssuerKeys(
  config: Config,
  token: HsmToken | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { issuers: Map<string, IssuerKeys>; warnings: string[] } {
  if (config.hsm !== undefined && token === undefined)
    throw new ConfigError('/hsm', 'a token configured after start needs a restart');
  const ctx = secretContext(config, env);
  const keks = new Map<string, TokenDecryptionKey>();
  const issuers = new Map<string, IssuerKeys>();
  for (const issuer of config.issuers)
    issuers.set(issuer.id, readIssuerKeys(issuer, ctx, token, keks, readPublicFile));
  separateSecrets(config.issuers, issuers);
  return { issuers, warnings: ctx.warnings };
}

/**
 * Each issuer's X-Pay-Token secret is its own: with one secret for two issuers, a request made
 * for one would pass at the other's endpoint (the token's resource path does not name the
 * issuer's segment, Visa's page).
 * @throws ConfigError naming the second issuer's secret.
 */
function separateSecrets(
  settings: readonly IssuerSettings[],
  keys: ReadonlyMap<string, IssuerKeys>,
): void {
  const seen: Buffer[] = [];
  for (const issuer of settings) {
    const secret = keys.get(issuer.id)?.xPayTokenSecret;
    if (secret === undefined) continue;
    const ref = issuer.auth.xPayToken?.sharedSecret;
    if (ref && seen.some((s) => s.length === secret.length && timingSafeEqual(s, secret)))
      throw new ConfigError(
        secretField(ref, `${issuer.at}/auth/xPayToken/sharedSecret`),
        "another issuer's X-Pay-Token secret: each issuer has its own",
      );
    seen.push(secret);
  }
}

/** One issuer's decryption keys, data keys and X-Pay-Token secret; fields named under its `at`. */
function readIssuerKeys(
  issuer: IssuerSettings,
  ctx: SecretContext,
  token: HsmToken | undefined,
  keks: Map<string, TokenDecryptionKey>,
  readPublicFile: (path: string, field: string) => string,
): IssuerKeys {
  const at = issuer.at;
  const decryptionKeys = new Map<string, DecryptionKey>();
  const decryptionCertificateExpiry = new Map<string, Date>();
  issuer.keys.decryption.forEach((k, i) => {
    const certField = `${at}/keys/decryption/${i}/certificate`;
    let cert: X509Certificate | undefined;
    if (k.certificate !== undefined) {
      try {
        cert = new X509Certificate(readPublicFile(k.certificate, certField));
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError(certField, 'not an X.509 certificate PEM');
      }
      decryptionCertificateExpiry.set(k.kid, new Date(cert.validTo));
    }
    if (k.hsm !== undefined) {
      // parseConfig guarantees the token when a key names it.
      decryptionKeys.set(
        k.kid,
        openTokenKey(
          token as HsmToken,
          k.hsm,
          `${at}/keys/decryption/${i}/hsm`,
          cert ? { key: cert.publicKey, field: certField } : undefined,
        ),
      );
      return;
    }
    const field = `${at}/keys/decryption/${i}/privateKey`;
    let key: KeyObject;
    try {
      key = createPrivateKey(readSecretFile(k.privateKey as string, field, ctx));
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(field, 'not a PEM private key');
    }
    requireRsa(key, field);
    // A certificate for another key would report a wrong expiry: refuse it at start.
    if (cert && !cert.checkPrivateKey(key))
      throw new ConfigError(certField, 'certificate does not match the private key');
    decryptionKeys.set(k.kid, fileDecryptionKey(key));
  });

  const dataKeys: DataKey[] = issuer.dataProtection.keys.map((k, i) => ({
    id: k.id,
    key: readKey(k, `${at}/dataProtection/keys/${i}`, ctx, token, keks),
  }));
  const fingerprintKey = readKey(
    issuer.dataProtection.fingerprintKey,
    `${at}/dataProtection/fingerprintKey`,
    ctx,
    token,
    keks,
  );

  let xPayTokenSecret: Buffer | undefined;
  const xpt = issuer.auth.xPayToken;
  if (xpt) {
    xPayTokenSecret = Buffer.from(
      resolveSecret(xpt.sharedSecret, `${at}/auth/xPayToken/sharedSecret`, ctx),
      'utf8',
    );
    if (xPayTokenSecret.length < 16) {
      throw new ConfigError(
        secretField(xpt.sharedSecret, `${at}/auth/xPayToken/sharedSecret`),
        'shared secret shorter than 16 bytes',
      );
    }
  }

  return {
    decryptionKeys,
    decryptionCertificateExpiry,
    dataProtector: new DataProtector(dataKeys, fingerprintKey),
    xPayTokenSecret,
  };
}

/**
 * Checks `listen.tls.crl` against `clientCa` at start (the listener reads it again, app.ts), so
 * that a file that would refuse every client certificate stops the process instead.
 * @returns the earliest nextUpdate, or undefined.
 * @throws ConfigError naming `/listen/tls/crl` (or `/listen/tls/clientCa` when unreadable).
 */
function readCrl(
  tls: Config['listen']['tls'],
  readPublicFile: (path: string, field: string) => string,
): Date | undefined {
  if (tls?.crl === undefined || tls.clientCa === undefined) return undefined;
  const crl = readPublicFile(tls.crl, '/listen/tls/crl');
  const ca = readPublicFile(tls.clientCa, '/listen/tls/clientCa');
  try {
    return readClientCrls(crl, ca, new Date()).nextUpdate;
  } catch (e) {
    throw new ConfigError('/listen/tls/crl', (e as Error).message);
  }
}

/**
 * 32 bytes, written as base64 text in a file or an environment variable; with `wrappedBy`, the
 * text is the key wrapped (RSA-OAEP-256) by that token key, unwrapped here into memory.
 */
function readKey(
  ref: SecretRef & { wrappedBy?: TokenKeyRef | undefined },
  field: string,
  ctx: SecretContext,
  token: HsmToken | undefined,
  keks: Map<string, TokenDecryptionKey>,
): Buffer {
  const text = Buffer.from(resolveSecret(ref, field, ctx), 'base64');
  let key: Buffer = text;
  if (ref.wrappedBy !== undefined) {
    const label = ref.wrappedBy.label;
    let kek = keks.get(label);
    if (kek === undefined) {
      kek = openTokenKey(token as HsmToken, ref.wrappedBy, `${field}/wrappedBy`);
      keks.set(label, kek);
    }
    const clear = kek.unwrapSync(text);
    if (clear === undefined)
      throw new ConfigError(
        secretField(ref, field),
        `does not unwrap with the token key "${label}" (not a key wrapped by it)`,
      );
    key = clear;
  }
  if (key.length !== 32)
    throw new ConfigError(secretField(ref, field), 'key must be 32 bytes, base64-encoded');
  return key;
}

/** `admin.totpKey`: 32 bytes, base64 text in a file or an environment variable. */
function readTotpKey(ref: SecretRef, ctx: SecretContext): Buffer {
  const key = Buffer.from(resolveSecret(ref, '/admin/totpKey', ctx), 'base64');
  if (key.length !== 32)
    throw new ConfigError(
      secretField(ref, '/admin/totpKey'),
      'key must be 32 bytes, base64-encoded',
    );
  return key;
}

function requireRsa(key: KeyObject, field: string): void {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048)
    throw new ConfigError(field, 'RSA key of at least 2048 bits required');
}
