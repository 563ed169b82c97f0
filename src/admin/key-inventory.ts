import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config, IssuerSettings } from '../config/config-schema.js';
import type { SecretRef } from '../config/secret-ref.js';
import { TokenDecryptionKey } from '../hsm/token-decryption-key.js';
import type { IssuerKeys, Secrets } from '../keys/load-secrets.js';

export interface KeyEntry {
  id: string;
  /** The issuer the key is for; null for the deployment's (Visa's certificates, TLS). */
  issuer: string | null;
  use:
    | 'decryption'
    | 'verification'
    | 'data'
    | 'fingerprint'
    | 'tls-server'
    | 'tls-client-ca'
    | 'admin-tls';
  subject: string | null;
  notAfter: Date | null;
  note: string | null;
  /**
   * Where the key is kept: `file`, `env` (a variable), `token` (inside the HSM, never leaves
   * it), `wrapped` (in memory only; stored wrapped by a token key).
   */
  location: 'file' | 'env' | 'token' | 'wrapped';
  /** The file, the variable's name, or the token and label: never key material. */
  where: string;
}

export interface KeyStatus extends KeyEntry {
  daysLeft: number | null;
  status: 'ok' | 'expiring' | 'expired' | 'unknown' | 'n/a';
}

function certificateInfo(path: string): { subject: string; notAfter: Date } | undefined {
  try {
    const cert = new X509Certificate(readFileSync(path));
    return { subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo) };
  } catch {
    return undefined;
  }
}

/**
 * Every key and certificate the configuration names, read once at start. A decryption key's
 * expiry comes from the certificate configured beside it (`keys.decryption[].certificate`); a
 * key without one is reported with expiry "unknown". Data and fingerprint keys are symmetric
 * and do not expire ("n/a"); they rotate by policy.
 */
export function keyInventory(config: Config, secrets: Secrets): KeyEntry[] {
  const out: KeyEntry[] = [];
  const tokenName = secrets.token?.description.token ?? config.hsm?.token ?? '';
  for (const k of config.keys.verification) {
    const notAfter = secrets.certificateExpiry.get(k.kid) ?? null;
    out.push({
      id: k.kid,
      issuer: null,
      use: 'verification',
      subject: notAfter ? (certificateInfo(k.certificate)?.subject ?? null) : null,
      notAfter,
      note: notAfter ? null : 'configured as a bare public key: expiry unknown',
      location: 'file',
      where: k.certificate,
    });
  }
  for (const issuer of config.issuers) issuerKeys(issuer, secrets, tokenName, out);
  const tlsCert = (id: string, use: KeyEntry['use'], path: string) => {
    const c = certificateInfo(path);
    out.push({
      id,
      issuer: null,
      use,
      subject: c?.subject ?? null,
      notAfter: c?.notAfter ?? null,
      note: c ? null : 'unreadable certificate',
      location: 'file',
      where: path,
    });
  };
  if (config.listen.tls) {
    tlsCert('listen.tls.cert', 'tls-server', config.listen.tls.cert);
    if (config.listen.tls.clientCa)
      tlsCert('listen.tls.clientCa', 'tls-client-ca', config.listen.tls.clientCa);
  }
  if (config.admin?.tls) tlsCert('admin.tls.cert', 'admin-tls', config.admin.tls.cert);
  return out;
}

function secretLocation(
  ref: SecretRef & { wrappedBy?: { label: string } | undefined },
  tokenName: string,
): Pick<KeyEntry, 'location' | 'where'> {
  const at = 'file' in ref ? ref.file : `environment variable ${ref.env}`;
  if (ref.wrappedBy)
    return {
      location: 'wrapped',
      where: `${at}, wrapped by token "${tokenName}" key "${ref.wrappedBy.label}"`,
    };
  return { location: 'file' in ref ? 'file' : 'env', where: at };
}

/** Adds days left and a status; `warnDays` ahead of expiry is "expiring". */
export function withStatus(
  entries: readonly KeyEntry[],
  now: number,
  warnDays: number,
): KeyStatus[] {
  return entries.map((e) => {
    if (e.use === 'data' || e.use === 'fingerprint') return { ...e, daysLeft: null, status: 'n/a' };
    if (e.notAfter === null) return { ...e, daysLeft: null, status: 'unknown' };
    const daysLeft = Math.floor(((e.notAfter.getTime() - now) / 86_400_000) * 10) / 10;
    return {
      ...e,
      daysLeft,
      status: daysLeft < 0 ? 'expired' : daysLeft <= warnDays ? 'expiring' : 'ok',
    };
  });
}

/** One issuer's decryption, data and fingerprint keys. */
function issuerKeys(
  issuer: IssuerSettings,
  secrets: Secrets,
  tokenName: string,
  out: KeyEntry[],
): void {
  const keys = secrets.issuers.get(issuer.id) as IssuerKeys;
  for (const k of issuer.keys.decryption) {
    const cert = k.certificate ? certificateInfo(k.certificate) : undefined;
    const key = keys.decryptionKeys.get(k.kid);
    out.push({
      id: k.kid,
      issuer: issuer.id,
      use: 'decryption',
      subject: cert?.subject ?? null,
      notAfter: keys.decryptionCertificateExpiry.get(k.kid) ?? null,
      note: k.certificate
        ? null
        : 'no certificate configured beside this key (keys.decryption[].certificate): expiry unknown',
      ...(k.hsm
        ? {
            location: 'token' as const,
            where: `token "${tokenName}", label "${k.hsm.label}" (${key instanceof TokenDecryptionKey ? key.mechanism : k.hsm.mechanism})`,
          }
        : { location: 'file' as const, where: k.privateKey ?? '' }),
    });
  }
  for (const [i, k] of issuer.dataProtection.keys.entries())
    out.push({
      id: k.id,
      issuer: issuer.id,
      use: 'data',
      subject: null,
      notAfter: null,
      note: i === 0 ? 'active: encrypts new rows' : 'decrypts older rows',
      ...secretLocation(k, tokenName),
    });
  out.push({
    id: 'fingerprint',
    issuer: issuer.id,
    use: 'fingerprint',
    subject: null,
    notAfter: null,
    note: 'HMAC key for card fingerprints',
    ...secretLocation(issuer.dataProtection.fingerprintKey, tokenName),
  });
}

/**
 * The inventory of `config` as it is now: read again when a reload has replaced its issuers
 * (`Runtime.reloadIssuers` swaps `config.issuers`), else the one read before.
 */
export function liveKeyInventory(config: Config, secrets: Secrets): () => KeyEntry[] {
  let seen: Config['issuers'] | undefined;
  let entries: KeyEntry[] = [];
  return () => {
    if (config.issuers !== seen) {
      seen = config.issuers;
      entries = keyInventory(config, secrets);
    }
    return entries;
  };
}
