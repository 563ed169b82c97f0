import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { testPan } from '../support/personal-data.js';
import { scanCaptured } from '../support/suite-scan.js';

// The whole-suite scan (run by scripts/run-tests.mjs after every suite) must itself be able to
// fail: a value registered in one test process and logged by another, or an unregistered card
// number, is reported, by file and source, without the value.

describe('whole-suite personal-data scan', () => {
  const capture = (dir: string, pid: number, sensitive: string[], text: string) =>
    writeFileSync(
      join(dir, `${pid}.json`),
      JSON.stringify({
        file: `dist/test/t${pid}.test.js`,
        sensitive,
        sources: [{ name: 'in-process server logs', text }],
      }),
    );

  it('finds a value registered by one process in the logs of another, and an unregistered card number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctp-scan-'));
    try {
      capture(dir, 1, ['amelie.42@example.org'], '{"msg":"visa request","status":200}\n');
      capture(dir, 2, [], '{"msg":"oops","email":"amelie.42@example.org"}\n');
      capture(dir, 3, [], `{"msg":"oops","n":"${testPan(77)}"}\n`);
      const report = scanCaptured(dir);
      assert.equal(report.processes, 3);
      assert.equal(report.lines, 6);
      assert.equal(report.findings.length, 2);
      assert.match(
        report.findings[0]!,
        /t2\.test\.js \(in-process server logs\): a registered personal value/,
      );
      assert.match(report.findings[1]!, /t3\.test\.js .*card-number-like/);
      assert.ok(!report.findings.join('').includes('amelie'), 'the report never repeats the value');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is clean when nothing leaks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctp-scan-'));
    try {
      capture(dir, 1, ['Dubois77'], '{"msg":"visa request","status":200,"code":null}\n');
      assert.deepEqual(scanCaptured(dir).findings, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
