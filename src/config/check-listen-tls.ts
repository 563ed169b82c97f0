import { ConfigError } from '../errors.js';
import type { Config } from './config-schema.js';

/**
 * Rules on `listen.tls` that a schema cannot say, and the one normalisation: pinning and
 * revocation need mutual TLS (`clientCa`); a pin names a subject, fingerprints or both; each
 * fingerprint becomes 64 lower-case hex digits without colons, the form the transport reports.
 * @throws ConfigError naming the field.
 */
export function checkListenTls(config: Config): void {
  const tls = config.listen.tls;
  if (tls === undefined) return;
  const pin = tls.clientCertificate;
  if (pin !== undefined) {
    if (tls.clientCa === undefined)
      throw new ConfigError('/listen/tls/clientCertificate', 'needs clientCa (mutual TLS)');
    if (pin.subject === undefined && pin.sha256 === undefined)
      throw new ConfigError('/listen/tls/clientCertificate', 'give subject, sha256 or both');
    if (pin.sha256) pin.sha256 = pin.sha256.map(normaliseFingerprint);
  }
  if (tls.crl !== undefined && tls.clientCa === undefined)
    throw new ConfigError('/listen/tls/crl', 'needs clientCa (mutual TLS)');
}

/** `AB:CD:…` or `abcd…` (the schema checked the digits) → `abcd…`. */
export function normaliseFingerprint(fingerprint: string): string {
  return fingerprint.replaceAll(':', '').toLowerCase();
}
