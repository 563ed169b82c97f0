import { ConfigError } from '../errors.js';
import { checkBinRanges } from './check-bin-ranges.js';
import type { Config } from './config-schema.js';

/**
 * Checks of `risk` the schema cannot express (level order, BIN range bounds, a real time zone),
 * that the directory gets full card numbers only over TLS, and one issuer when it is on.
 * @throws ConfigError naming the field.
 */
export function checkRisk(config: Config): void {
  checkRiskSettings(config.risk, '/risk');
  // The assessment reads one directory with one fingerprint key: one issuer's (decision 0053).
  if (config.risk.enabled && config.issuers.length > 1)
    throw new ConfigError(
      '/risk/enabled',
      'risk assessment serves one issuer: with several `issuers`, set it to false',
    );
  const d = config.directory;
  // PCI DSS 4.2.1: a full card number crosses a network only under strong cryptography.
  if (d.type === 'http' && d.sendCardNumber && !d.url.startsWith('https://'))
    throw new ConfigError(
      '/directory/url',
      'sendCardNumber sends full card numbers: the URL must be https://',
    );
}

/** {@link checkRisk} on a `risk` section alone; fields are named under `at`. */
export function checkRiskSettings(risk: Config['risk'], at: string): void {
  if (risk.levels.medium >= risk.levels.high)
    throw new ConfigError(`${at}/levels`, 'medium must be below high');
  if (risk.name.weakAt > risk.name.matchAt)
    throw new ConfigError(`${at}/name`, 'weakAt must not exceed matchAt');
  checkBinRanges(risk.binRanges, at);
  if (risk.alert) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: risk.alert.timeZone });
    } catch {
      throw new ConfigError(`${at}/alert/timeZone`, 'not an IANA time zone');
    }
  }
}
