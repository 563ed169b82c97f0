import { ConfigError } from '../errors.js';
import type { Config } from './config-schema.js';

/**
 * Rules on `sinks` and `delivery` that a schema cannot say: unique names, a lease longer than
 * any attempt may take (or a slow attempt would be taken over and delivered twice).
 * @throws ConfigError naming the field.
 */
export function checkSinks(config: Config): void {
  const names = new Set<string>();
  config.sinks.forEach((sink, i) => {
    const at = `/sinks/${i}`;
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
  });
}
