#!/usr/bin/env node
// `npm audit --omit=dev`, failing on high or critical advisories in production dependencies.
// When the registry's audit endpoint cannot be reached (this sandbox reaches only the package
// registry, which answers the audit call with 405), say so loudly, with npm's reason, and do
// not fail: an unanswered audit is not a clean one, and the line says that. Set
// CTP_AUDIT_REQUIRED=true where the endpoint is reachable to make an unanswered audit fail.
// CTP_AUDIT_REPORT=FILE reads a saved `npm audit --json` report instead (for the tests).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const text = process.env.CTP_AUDIT_REPORT
  ? readFileSync(process.env.CTP_AUDIT_REPORT, 'utf8')
  : spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' }).stdout;
let report;
try {
  report = JSON.parse(text);
} catch {
  report = undefined;
}
if (!report || report.error || !report.metadata) {
  const reason =
    report?.message ?? report?.error?.summary ?? report?.error?.code ?? 'no JSON report';
  const required = process.env.CTP_AUDIT_REQUIRED === 'true';
  console.log(
    `# npm audit: ${required ? 'FAILED' : 'SKIPPED'}, the audit endpoint did not answer (${reason}): no verdict on production dependencies`,
  );
  process.exit(required ? 1 : 0);
}
const v = report.metadata.vulnerabilities ?? {};
const serious = Object.entries(report.vulnerabilities ?? {})
  .filter(([, a]) => a.severity === 'high' || a.severity === 'critical')
  .map(([name, a]) => `${name} (${a.severity})`);
console.log(
  `# npm audit --omit=dev: ${JSON.stringify(v)}${serious.length ? `; high or critical: ${serious.join(', ')}` : ''}`,
);
process.exit((v.high ?? 0) + (v.critical ?? 0) > 0 ? 1 : 0);
