import { ConfigError } from '../errors.js';
import type { Config } from './config-schema.js';

/**
 * Rules on `sinks` and `delivery` that a schema cannot say: unique names, exactly one source
 * for webhook secrets and at most one for a broker password, a lease longer than any attempt
 * may take (or a slow attempt would be taken over and delivered twice). Resolves relative
 * file paths with `abs`.
 * @throws ConfigError naming the field.
 */
export function checkSinks(config: Config, abs: (path: string) => string): void {
  const names = new Set<string>();
  config.sinks.forEach((sink, i) => {
    const at = `/sinks/${i}`;
    if (names.has(sink.name)) throw new ConfigError(`${at}/name`, 'duplicate sink name');
    names.add(sink.name);
    if (sink.timeoutMs >= config.delivery.leaseMs) {
      throw new ConfigError(`${at}/timeoutMs`, `must be shorter than /delivery/leaseMs (${config.delivery.leaseMs})`);
    }
    if (sink.retry.initialDelayMs > sink.retry.maxDelayMs) {
      throw new ConfigError(`${at}/retry/initialDelayMs`, 'must not exceed maxDelayMs');
    }
    if (sink.type === 'webhook') {
      const given = [sink.secrets, sink.secretsFile, sink.secretsEnv].filter((v) => v !== undefined).length;
      if (given !== 1) throw new ConfigError(at, 'give exactly one of secrets, secretsFile, secretsEnv');
      if (sink.secretsFile) sink.secretsFile = abs(sink.secretsFile);
      if (sink.caFile) sink.caFile = abs(sink.caFile);
    } else {
      if (sink.passwordFile !== undefined && sink.passwordEnv !== undefined) {
        throw new ConfigError(at, 'give at most one of passwordFile, passwordEnv');
      }
      if (sink.passwordFile) sink.passwordFile = abs(sink.passwordFile);
    }
  });
}
