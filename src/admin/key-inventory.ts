import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config-schema.js';
import type { Secrets } from '../config/load-secrets.js';

export interface KeyEntry {
  id: string;
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
  for (const k of config.keys.decryption) {
    const cert = k.certificate ? certificateInfo(k.certificate) : undefined;
    out.push({
      id: k.kid,
      use: 'decryption',
      subject: cert?.subject ?? null,
      notAfter: secrets.decryptionCertificateExpiry.get(k.kid) ?? null,
      note: k.certificate
        ? null
        : 'no certificate configured beside this key (keys.decryption[].certificate): expiry unknown',
    });
  }
  for (const k of config.keys.verification) {
    const notAfter = secrets.certificateExpiry.get(k.kid) ?? null;
    out.push({
      id: k.kid,
      use: 'verification',
      subject: notAfter ? (certificateInfo(k.certificate)?.subject ?? null) : null,
      notAfter,
      note: notAfter ? null : 'configured as a bare public key: expiry unknown',
    });
  }
  for (const [i, k] of config.dataProtection.keys.entries())
    out.push({
      id: k.id,
      use: 'data',
      subject: null,
      notAfter: null,
      note: i === 0 ? 'active: encrypts new rows' : 'decrypts older rows',
    });
  out.push({
    id: 'fingerprint',
    use: 'fingerprint',
    subject: null,
    notAfter: null,
    note: 'HMAC key for card fingerprints',
  });
  const tlsCert = (id: string, use: KeyEntry['use'], path: string) => {
    const c = certificateInfo(path);
    out.push({
      id,
      use,
      subject: c?.subject ?? null,
      notAfter: c?.notAfter ?? null,
      note: c ? null : 'unreadable certificate',
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
