import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { type DataKey, DataProtector } from '../protect/data-protector.js';
import type { Config } from './config-schema.js';
import {
  readSecretFile,
  resolveSecret,
  type SecretContext,
  secretContext,
  secretField,
} from './resolve-secret.js';
import type { SecretRef } from './secret-ref.js';

/** Key material loaded once at start, never per request. */
export interface Secrets {
  verificationKeys: Map<string, KeyObject>;
  decryptionKeys: Map<string, KeyObject>;
  /** Expiry of each verification certificate given, for operators (`kid` → notAfter). */
  certificateExpiry: Map<string, Date>;
  /**
   * Expiry of the certificate configured beside a decryption key (`kid` → notAfter), when given.
   */
  decryptionCertificateExpiry: Map<string, Date>;
  dataProtector: DataProtector;
  xPayTokenSecret: Buffer | undefined;
  /** Warnings to log at start (e.g. permissive key files allowed by flag). */
  warnings: string[];
}

/**
 * Loads every key and secret named by a validated config.
 *
 * Private key and secret files (decryption keys, the TLS server key, data and fingerprint keys,
 * the X-Pay-Token secret) must not be readable by group or others unless
 * `allowInsecureKeyPermissions` is true (then a warning is returned for the log).
 *
 * @throws ConfigError naming the field whose file or variable is missing or unusable.
 */
export function loadSecrets(config: Config, env: NodeJS.ProcessEnv = process.env): Secrets {
  const ctx = secretContext(config, env);
  const readPublicFile = (path: string, field: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      throw new ConfigError(field, `cannot read ${path}`);
    }
  };

  // The TLS server key is read by the listener (app.ts); its permissions are checked here, with
  // every other private key, so that a loose one stops the process before anything listens.
  if (config.listen.tls) readSecretFile(config.listen.tls.key, '/listen/tls/key', ctx);

  const decryptionKeys = new Map<string, KeyObject>();
  const decryptionCertificateExpiry = new Map<string, Date>();
  config.keys.decryption.forEach((k, i) => {
    const field = `/keys/decryption/${i}/privateKey`;
    let key: KeyObject;
    try {
      key = createPrivateKey(readSecretFile(k.privateKey, field, ctx));
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(field, 'not a PEM private key');
    }
    requireRsa(key, field);
    decryptionKeys.set(k.kid, key);
    if (k.certificate !== undefined) {
      const certField = `/keys/decryption/${i}/certificate`;
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(readPublicFile(k.certificate, certField));
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError(certField, 'not an X.509 certificate PEM');
      }
      // A certificate for another key would report a wrong expiry: refuse it at start.
      if (!cert.checkPrivateKey(key))
        throw new ConfigError(certField, 'certificate does not match the private key');
      decryptionCertificateExpiry.set(k.kid, new Date(cert.validTo));
    }
  });

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

  const dataKeys: DataKey[] = config.dataProtection.keys.map((k, i) => ({
    id: k.id,
    key: readKey(k, `/dataProtection/keys/${i}`, ctx),
  }));
  const fingerprintKey = readKey(
    config.dataProtection.fingerprintKey,
    '/dataProtection/fingerprintKey',
    ctx,
  );

  let xPayTokenSecret: Buffer | undefined;
  const xpt = config.auth.xPayToken;
  if (xpt) {
    xPayTokenSecret = Buffer.from(
      resolveSecret(xpt.sharedSecret, '/auth/xPayToken/sharedSecret', ctx),
      'utf8',
    );
    if (xPayTokenSecret.length < 16) {
      throw new ConfigError(
        secretField(xpt.sharedSecret, '/auth/xPayToken/sharedSecret'),
        'shared secret shorter than 16 bytes',
      );
    }
  }

  return {
    verificationKeys,
    decryptionKeys,
    certificateExpiry,
    decryptionCertificateExpiry,
    dataProtector: new DataProtector(dataKeys, fingerprintKey),
    xPayTokenSecret,
    warnings: ctx.warnings,
  };
}

/** 32 bytes, written as base64 text in a file or an environment variable. */
function readKey(ref: SecretRef, field: string, ctx: SecretContext): Buffer {
  const key = Buffer.from(resolveSecret(ref, field, ctx), 'base64');
  if (key.length !== 32)
    throw new ConfigError(secretField(ref, field), 'key must be 32 bytes, base64-encoded');
  return key;
}

function requireRsa(key: KeyObject, field: string): void {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048)
    throw new ConfigError(field, 'RSA key of at least 2048 bits required');
}
