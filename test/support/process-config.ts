import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../src/config/config-schema.js';
import { configFor, type HarnessOptions } from './server-harness.js';
import { processTempDir } from './temp-dir.js';
import type { TestPki } from './test-pki.js';

/**
 * Writes the config the in-process harness would use to a file, for a real `ctp-notify serve`
 * child process. `adjust` edits the validated config (e.g. shorter timeouts) before writing.
 */
export function writeServerConfig(
  pki: TestPki,
  o: HarnessOptions,
  adjust: (c: Config) => void = () => {},
): { file: string; config: Config } {
  const config = configFor(pki, o);
  adjust(config);
  const file = join(processTempDir('ctp-proc-'), 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, config };
}
