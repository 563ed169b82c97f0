import { ConfigError } from '../errors.js';
import type { Config } from './config-schema.js';

function exactlyOneSource(s: { file?: string | undefined; env?: string | undefined }, field: string): void {
  if ((s.file === undefined) === (s.env === undefined)) throw new ConfigError(field, 'give exactly one of file, env');
}

/**
 * Checks of `directory` and `risk` the schema cannot express (level order, BIN range bounds,
 * one secret source, a real time zone) and resolves their file paths with `abs`.
 * @throws ConfigError naming the field.
 */
export function checkRisk(config: Config, abs: (p: string) => string): void {
  if (config.directory.type === 'http') {
    if (config.directory.ca) config.directory.ca = abs(config.directory.ca);
    if (config.directory.authorization) {
      exactlyOneSource(config.directory.authorization, '/directory/authorization');
      if (config.directory.authorization.file) config.directory.authorization.file = abs(config.directory.authorization.file);
    }
  }
  if (config.risk.levels.medium >= config.risk.levels.high) throw new ConfigError('/risk/levels', 'medium must be below high');
  if (config.risk.name.weakAt > config.risk.name.matchAt) throw new ConfigError('/risk/name', 'weakAt must not exceed matchAt');
  config.risk.binRanges?.forEach((r, i) => {
    const [lo, hi] = r.split('-');
    if (hi !== undefined && (lo!.length !== hi.length || lo! > hi)) throw new ConfigError(`/risk/binRanges/${i}`, 'bounds must have equal length, low first');
  });
  const sink = config.risk.alert?.sink;
  if (sink?.type === 'email') {
    if (sink.ca) sink.ca = abs(sink.ca);
    if (sink.password) {
      exactlyOneSource(sink.password, '/risk/alert/sink/password');
      if (sink.password.file) sink.password.file = abs(sink.password.file);
    }
  } else if (sink?.type === 'webhook') {
    sink.secrets.forEach((s, i) => {
      exactlyOneSource(s, `/risk/alert/sink/secrets/${i}`);
      if (s.file) s.file = abs(s.file);
    });
  }
  if (config.risk.alert) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: config.risk.alert.timeZone });
    } catch {
      throw new ConfigError('/risk/alert/timeZone', 'not an IANA time zone');
    }
  }
}
