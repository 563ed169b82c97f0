import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

// scripts/audit.mjs (run by .ci/run) fails on a high or critical advisory in production
// dependencies, and never passes an unanswered audit off as a clean one.

const script = new URL('../../../scripts/audit.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ctp-audit-'));
function audit(report: unknown, env: Record<string, string> = {}) {
  const file = join(dir, `${Math.random()}.json`);
  writeFileSync(file, JSON.stringify(report));
  return spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    env: { ...process.env, CTP_AUDIT_REPORT: file, CTP_AUDIT_REQUIRED: '', ...env },
  });
}
const metadata = (v: Record<string, number>) => ({
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...v } },
});

describe('scripts/audit.mjs', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails on high or critical, naming the package', () => {
    const r = audit({
      ...metadata({ high: 1 }),
      vulnerabilities: { 'bad-pkg': { severity: 'high' } },
    });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /high or critical: bad-pkg \(high\)/);
    assert.equal(audit(metadata({ critical: 2 })).status, 1);
  });

  it('passes with only low or moderate findings', () => {
    const r = audit(metadata({ low: 3, moderate: 1 }));
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^# npm audit --omit=dev: /);
  });

  it('an unanswered audit says SKIPPED with the reason, and fails when an answer is required', () => {
    const error = {
      message:
        '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    };
    const r = audit(error);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /SKIPPED, the audit endpoint did not answer \(405 Method Not Allowed/);
    assert.match(r.stdout, /no verdict/);
    const required = audit(error, { CTP_AUDIT_REQUIRED: 'true' });
    assert.equal(required.status, 1);
    assert.match(required.stdout, /FAILED/);
  });
});
