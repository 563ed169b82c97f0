import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import type { PhaseResult } from './bench-phase.js';
import { round } from './bench-phase.js';
import type { BoundResult } from './measure-bound.js';

export interface Machine {
  cpuModel: string;
  cores: number;
  node: string;
  kernel: string;
  loadAverage1m: { start: number; end?: number };
  note: string;
}

export function machine(): Machine {
  const model =
    /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  return {
    cpuModel: model.trim(),
    cores: availableParallelism(),
    node: process.version,
    kernel: release(),
    loadAverage1m: { start: round(loadavg()[0]!, 2) },
    note: 'shared machine: other processes compete for the cores, so wall-clock throughput varies; per-CPU-second figures are the comparable ones',
  };
}

/** The issue's targets, judged on one run's figures. */
export function targets(
  service: PhaseResult,
  bound: BoundResult | undefined,
  peer: PhaseResult | undefined,
  fixed: PhaseResult | undefined,
) {
  const t: Record<string, { target: string; value: number | null; met: boolean | null }> = {};
  // The bound is the single-thread privateDecrypt rate; the ratio to the RSA pair
  // (decrypt + PS256 verify per notification) is reported beside it in latest.json.
  const ratioToBound = bound
    ? round(service.perCpuSecond / bound.privateDecryptPerSecond, 3)
    : null;
  const ratioToPeer = peer ? round(service.perCpuSecond / peer.perCpuSecond, 3) : null;
  t.ratioToBound = {
    target: '>= 0.6',
    value: ratioToBound,
    met: ratioToBound === null ? null : ratioToBound >= 0.6,
  };
  t.ratioToPeer = {
    target: '>= 1.3',
    value: ratioToPeer,
    met: ratioToPeer === null ? null : ratioToPeer >= 1.3,
  };
  const p99 = fixed?.latencyMs.p99 ?? null;
  t.p99AtEightyPercentMs = {
    target: '<= 50',
    value: p99,
    met: p99 === null ? null : p99 <= 50 && fixed!.accepted === fixed!.notifications,
  };
  return { ratioToBound, ratioToPeer, targets: t };
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

/** A short table for the terminal. */
export function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}

export function phaseRows(label: string, p: PhaseResult): [string, string][] {
  const bad = p.notifications - p.accepted;
  return [
    [
      `${label}: accepted`,
      `${p.accepted}/${p.notifications}${bad ? `  (${JSON.stringify(p.statuses)}, ${p.errors} errors${p.firstError ? `: ${p.firstError}` : ''})` : ''}`,
    ],
    [
      `${label}: throughput`,
      `${p.throughputPerSecond} /s${p.offeredRatePerSecond ? ` (offered ${p.offeredRatePerSecond} /s)` : ''}`,
    ],
    [
      `${label}: latency p50/p99/p99.9`,
      `${p.latencyMs.p50} / ${p.latencyMs.p99} / ${p.latencyMs.p999} ms`,
    ],
    [
      `${label}: server CPU`,
      `${p.serverCpuSeconds} s (kernel ${p.serverSystemCpuSeconds} s) in ${p.serverProcesses} processes [${p.serverCpuSecondsByProcess.join(', ')}]${p.settleSeconds > 0.2 ? `, ${p.settleSeconds} s of it after the last answer` : ''}`,
    ],
    [`${label}: per server CPU-second`, `${p.perCpuSecond}`],
    [`${label}: RSS after warm-up / end`, `${mb(p.rss.afterWarmupBytes)} / ${mb(p.rss.endBytes)}`],
  ];
}
