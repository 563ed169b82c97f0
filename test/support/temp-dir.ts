import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
// Synchronous on purpose: 'exit' handlers cannot wait. Runs when a test file's process ends,
// whether its tests passed or failed (node --test runs each file in a process of its own).
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/**
 * A new folder in the temp directory, removed when this test process exits: for fixtures that
 * outlive one test (the PKI's keys, configs written for child processes), which therefore have
 * no `finally` of their own. `scripts/run-tests.mjs` fails the run if anything is left.
 */
export function processTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
