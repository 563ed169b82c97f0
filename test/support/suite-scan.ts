import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { findPersonalData, registeredSensitive } from './personal-data.js';

/**
 * The whole-suite personal-data scan. Each test process (node:test runs every file in its own)
 * writes, on exit, every log line it captured — in-process servers' logs and spawned
 * processes' stdout and stderr — with every personal value it registered, to
 * `$CTP_TEST_CAPTURE_DIR`. `scripts/run-tests.mjs` then scans all of them against all values
 * ({@link scanCaptured}), so a leak fails the run even where no test asserted on that log.
 */

const sources: { name: string; text: () => string }[] = [];

/** Adds a source of captured output (read when the process exits). */
export function captureForSuiteScan(name: string, text: () => string): void {
  if (sources.length === 0) process.once('exit', writeCapture);
  sources.push({ name, text });
}

/**
 * Moves captured text out of the heap now (to a file the exit hook reads back), so that a test
 * measuring the process's memory measures the server, not the test's own log capture.
 */
export function spillForSuiteScan(name: string, text: string): void {
  const dir = process.env.CTP_TEST_CAPTURE_DIR;
  if (!dir || text === '') return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(spillFile(dir), `${JSON.stringify({ name, text })}\n`);
  if (sources.length === 0) process.once('exit', writeCapture);
}

const spillFile = (dir: string) => join(dir, `${process.pid}.spill`);

function writeCapture(): void {
  const dir = process.env.CTP_TEST_CAPTURE_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const spilled = existsSync(spillFile(dir))
    ? readFileSync(spillFile(dir), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { name: string; text: string })
    : [];
  rmSync(spillFile(dir), { force: true });
  const capture = {
    file: process.argv[1] ?? '',
    sensitive: registeredSensitive(),
    sources: [...spilled, ...sources.map((s) => ({ name: s.name, text: s.text() }))],
  };
  writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(capture));
}

export interface ScanReport {
  processes: number;
  lines: number;
  values: number;
  /** One entry per leak: which test file's which source, and what (never the value). */
  findings: string[];
}

/** Scans every capture in `dir` against the values registered by every process. */
export function scanCaptured(dir: string): ScanReport {
  const captures = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map(
      (f) =>
        JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
          file: string;
          sensitive: string[];
          sources: { name: string; text: string }[];
        },
    );
  const values = new Set(captures.flatMap((c) => c.sensitive));
  const findings: string[] = [];
  let lines = 0;
  for (const c of captures) {
    for (const s of c.sources) {
      lines += s.text === '' ? 0 : s.text.split('\n').length;
      const found = findPersonalData(s.text, values);
      if (found) findings.push(`${c.file} (${s.name}): ${found}`);
    }
  }
  return { processes: captures.length, lines, values: values.size, findings };
}
