#!/usr/bin/env node
// Runs the compiled test files with node's test runner. Node 20 has no glob support in
// `node --test`, so the files are listed here. Usage: node scripts/run-tests.mjs [name-filter]
// Afterwards, the whole-suite personal-data scan: every log line and process output any test
// captured, against every personal value any test registered (test/support/suite-scan.ts), and
// a check that the tests left nothing in their temp directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = 'dist/test';
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(root);
const filter = process.argv[2];
const selected = filter ? files.filter((f) => f.includes(filter)) : files;
if (selected.length === 0) {
  console.error(`no test files match ${filter ?? '(all)'}`);
  process.exit(1);
}
const captureDir = mkdtempSync(join(tmpdir(), 'ctp-test-capture-'));
// The tests' temp directory is one of the run's own, so that whatever a test leaves in it
// (keys among it) is found and reported here instead of piling up in the system's.
const testTmp = mkdtempSync(join(tmpdir(), 'ctp-test-tmp-'));
const r = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', ...selected],
  {
    stdio: 'inherit',
    env: { ...process.env, CTP_TEST_CAPTURE_DIR: captureDir, TMPDIR: testTmp },
  },
);
const leftovers = readdirSync(testTmp);
rmSync(testTmp, { recursive: true, force: true });
const { scanCaptured } = await import('../dist/test/support/suite-scan.js');
const scan = scanCaptured(captureDir);
rmSync(captureDir, { recursive: true, force: true });
const scanFailed = scan.findings.length > 0 || (filter === undefined && scan.lines === 0);
console.log(
  `# personal-data scan: ${scan.lines} captured log/output lines from ${scan.processes} test processes against ${scan.values} registered values: ` +
    (scan.findings.length > 0 ? 'LEAKS FOUND' : scan.lines === 0 ? 'NOTHING CAPTURED' : 'clean'),
);
for (const f of scan.findings) console.log(`#   ${f}`);
console.log(
  `# temp folder: ${leftovers.length === 0 ? 'clean' : `${leftovers.length} left by tests: ${leftovers.slice(0, 20).join(', ')}`}`,
);
process.exit(r.status === 0 && !scanFailed && leftovers.length === 0 ? 0 : r.status || 1);
