import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../errors.js';
import { checkRiskSettings } from './check-risk.js';
import type { Config } from './config-schema.js';
import { RiskConfig } from './risk-config-schema.js';

/**
 * Reads a candidate `risk` section from its own JSON file (for `ctp-notify risk backtest`): the
 * whole section as it would stand in the config, validated by the same schema and checks, with
 * the same defaults. Fields are named `FILE#/pointer`. Secret references and paths in it are not
 * resolved: a backtest sends no alert.
 * @throws ConfigError naming the file and the first offending field.
 */
export function loadRiskConfig(file: string): Config['risk'] {
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigError(file, code ? `cannot read it: ${code}` : 'not valid JSON');
  }
  const value = Value.Default(RiskConfig, structuredClone(input));
  const first = Value.Errors(RiskConfig, value).First();
  if (first) throw new ConfigError(`${file}#${first.path || '/'}`, first.message);
  const risk = value as Config['risk'];
  checkRiskSettings(risk, `${file}#`);
  return risk;
}
