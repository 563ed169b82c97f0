import { ConfigError } from '../errors.js';
import type { Config } from './config-schema.js';

/** URL schemes under TLS, for the two sink types (the schema admits the lower-case forms only). */
const ENCRYPTED_SCHEMES = ['https://', 'amqps://'] as const;

/**
 * Rules on `sinks` and `delivery` that a schema cannot say: unique names, a lease longer than
 * any attempt may take (or a slow attempt would be taken over and delivered twice), and a sink
 * given full card numbers (`includePan`) reached only over TLS.
 * @throws ConfigError naming the field.
 */
export function checkSinks(config: Config): void {
  // The alert channel's lane holds its messages under the same lease: an SMTP send is a
  // connection, a greeting and a transfer, each up to timeoutMs, and must end within the lease.
  const alertSink = config.risk.enabled ? config.risk.alert?.sink : undefined;
  if (alertSink) {
    const phases = alertSink.type === 'email' ? 3 : 1;
    if (alertSink.timeoutMs * phases >= config.delivery.leaseMs)
      throw new ConfigError(
        '/risk/alert/sink/timeoutMs',
        `${phases > 1 ? `${phases} × ` : ''}must be shorter than /delivery/leaseMs (${config.delivery.leaseMs})`,
      );
  }
  const names = new Set<string>();
  for (const sink of config.sinks) {
    const at = sink.at;
    if (names.has(sink.name)) throw new ConfigError(`${at}/name`, 'duplicate sink name');
    names.add(sink.name);
    if (sink.timeoutMs >= config.delivery.leaseMs) {
      throw new ConfigError(
        `${at}/timeoutMs`,
        `must be shorter than /delivery/leaseMs (${config.delivery.leaseMs})`,
      );
    }
    if (sink.retry.initialDelayMs > sink.retry.maxDelayMs) {
      throw new ConfigError(`${at}/retry/initialDelayMs`, 'must not exceed maxDelayMs');
    }
    // PCI DSS 4.2.1: a full card number crosses any network, trusted or not, only under strong
    // cryptography. No exception for loopback or an "internal" network: the schema cannot tell.
    if (sink.includePan && !ENCRYPTED_SCHEMES.some((s) => sink.url.startsWith(s))) {
      throw new ConfigError(
        `${at}/url`,
        'a sink with includePan gets full card numbers: its URL must be https:// or amqps:// (PCI DSS 4.2.1)',
      );
    }
  }
}
