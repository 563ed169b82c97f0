import { ConfigError } from '../errors.js';
import type { Config } from './config-schema.js';

/**
 * Checks of `risk` the schema cannot express (level order, BIN range bounds, a real time zone).
 * @throws ConfigError naming the field.
 */
export function checkRisk(config: Config): void {
  if (config.risk.levels.medium >= config.risk.levels.high)
    throw new ConfigError('/risk/levels', 'medium must be below high');
  if (config.risk.name.weakAt > config.risk.name.matchAt)
    throw new ConfigError('/risk/name', 'weakAt must not exceed matchAt');
  config.risk.binRanges?.forEach((r, i) => {
    const [lo, hi] = r.split('-');
    if (hi !== undefined && (lo!.length !== hi.length || lo! > hi))
      throw new ConfigError(`/risk/binRanges/${i}`, 'bounds must have equal length, low first');
  });
  if (config.risk.alert) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: config.risk.alert.timeZone });
    } catch {
      throw new ConfigError('/risk/alert/timeZone', 'not an IANA time zone');
    }
  }
}
