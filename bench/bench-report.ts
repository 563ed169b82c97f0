import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import type { BoundOverRun } from './bench-max.js';
import type { OverloadResult } from './bench-overload.js';
import type { PhaseResult } from './bench-phase.js';
import { round } from './bench-phase.js';
import {
  BANK_PART_ROWS,
  CEILING_ROW,
  MAX_ROWS,
  PEER_ROW,
  TOKEN_ROW,
  TRACED_ROWS,
} from './bench-rows.js';
import type { SoakResult } from './bench-soak.js';

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

/** Everything one `npm run bench` measured. */
export interface BenchRun {
  bound: BoundOverRun | undefined;
  max: Map<string, PhaseResult>;
  fixed: Map<string, PhaseResult>;
  postgres: PhaseResult | undefined;
  overload: OverloadResult[];
  memory: SoakResult | undefined;
}

export interface Target {
  target: string;
  value: number | boolean | null;
  met: boolean | null;
}

const ratio = (a: PhaseResult | undefined, b: PhaseResult | number | undefined) =>
  a === undefined || b === undefined
    ? null
    : round(a.perCpuSecond / (typeof b === 'number' ? b : b.perCpuSecond), 3);

/** The issue's targets, judged on one run's figures (null: not measured in this run). */
export function targets(run: BenchRun): Record<string, Target> {
  const t: Record<string, Target> = {};
  const at = (v: number | null, target: string, ok: (v: number) => boolean): Target => ({
    target,
    value: v,
    met: v === null ? null : ok(v),
  });
  const m = run.max;
  t.bankVsReceive = at(ratio(m.get('bank'), m.get('receive')), '>= 0.8', (v) => v >= 0.8);
  t.receiveVsBound = at(
    ratio(m.get('receive'), run.bound?.privateDecryptPerSecond),
    '>= 0.45',
    (v) => v >= 0.45,
  );
  // A hundred issuers' routes and keys are looked up by map: they cost what one does, within
  // the run's noise.
  t.manyIssuersVsOne = at(
    ratio(m.get('receive-100-issuers'), m.get('receive')),
    '>= 0.95',
    (v) => v >= 0.95,
  );
  // Traces at sampling 1.0 cost at most 5 % per CPU-second (`--traces`).
  t.tracedReceiveVsReceive = at(
    ratio(m.get('receive-traced'), m.get('receive')),
    '>= 0.95',
    (v) => v >= 0.95,
  );
  t.tracedBankVsBank = at(ratio(m.get('bank-traced'), m.get('bank')), '>= 0.95', (v) => v >= 0.95);
  t.receiveVsPeer = at(ratio(m.get('receive'), m.get('peer')), '>= 1.3', (v) => v >= 1.3);
  // Not a target: what keeping the key in a (software) token costs beside a file key.
  t.tokenKeyVsFileKey = {
    target: '(reported)',
    value: ratio(m.get('receive-token'), m.get('receive')),
    met: null,
  };
  t.bankVsPeer = at(ratio(m.get('bank'), m.get('peer')), '>= 1.0', (v) => v >= 1.0);
  t.mtlsKeepAliveVsBank = at(ratio(m.get('bank-mtls'), m.get('bank')), '>= 0.9', (v) => v >= 0.9);
  const f = run.fixed.get('bank-mtls');
  t.mtlsP99AtEightyPercentOfBankMs = at(
    f ? f.latencyMs.p99 : null,
    '<= 50 (every notification accepted)',
    (v) => v <= 50 && f!.accepted === f!.notifications,
  );
  for (const o of run.overload) {
    // Keep-alive keeps the keys of earlier runs; the other ways of connecting name theirs.
    const way = o.connection === 'keep-alive' ? '' : camel(o.connection);
    const k = `overload${o.factor}x${way}`;
    const need = o.factor <= 2 ? 0.85 : 0.75;
    if (!o.client.keptRate) {
      // The load generator fell behind its schedule: what it saw is its own limit.
      t[`${k}ClientKeptRate`] = {
        target: `sends within 50 ms of schedule (else this run is not judged): sends late`,
        value: o.client.lateSends,
        met: null,
      };
      continue;
    }
    t[`${k}Goodput`] = at(o.goodputRatio, `>= ${need} of row 2's maximum`, (v) => v >= need);
    if (o.connection === 'keep-alive') {
      t[`${k}OnlyOkOrFast500`] = {
        target: 'every answer 200 or 500, none missing',
        value: o.answers.other + o.answers.timeouts + o.answers.errors === 0,
        met: o.answers.other + o.answers.timeouts + o.answers.errors === 0,
      };
      t[`${k}P99AllAnswersMs`] = at(o.latencyMs.all.p99, '<= 1000', (v) => v <= 1000);
    } else {
      const unanswered = o.answers.other + o.answers.timeouts + o.answers.errors;
      t[`${k}Unanswered`] = at(
        unanswered,
        '0 (each request 200, 500 or refused before any work)',
        (v) => v === 0,
      );
      t[`${k}P99Of500sMs`] = at(o.latencyMs.shed?.p99 ?? 0, '<= 100', (v) => v <= 100);
      t[`${k}P99RefusalSeenMs`] = at(o.latencyMs.refused?.p99 ?? 0, '<= 100', (v) => v <= 100);
      t[`${k}StoredForGoneClients`] = {
        target: '(reported: stored although the client timed out)',
        value: o.stored.clientGone,
        met: null,
      };
    }
    t[`${k}BackToNormalSeconds`] = at(o.recovery.backToNormalSeconds, '<= 5', (v) => v <= 5);
    t[`${k}RssPeakVsWarm`] = at(
      round(o.rss.peakBytes / o.rss.afterWarmupBytes, 2),
      '<= 1.5 × RSS after warm-up',
      (v) => v <= 1.5,
    );
    const once =
      o.stored.shedButStored === 0 &&
      o.stored.refusedButStored === 0 &&
      o.retries.ok === o.retries.sent &&
      o.retries.storedAfter === o.retries.distinct;
    t[`${k}StoredExactlyOnce`] = {
      target: 'no 500 or refused one stored; after the retries every notification stored, once',
      value: once,
      met: once,
    };
  }
  t.memoryFlat = at(
    run.memory ? run.memory.growthSecondHalfPercent : null,
    'RSS +<= 5 % over the second half',
    () => run.memory!.flat,
  );
  return t;
}

/** `mtls-full` → `MtlsFull`. */
const camel = (s: string) =>
  s
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

/** A short table for the terminal. */
export function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
const lat = (l: { p50: number; p99: number; p999: number }) => `${l.p50} / ${l.p99} / ${l.p999} ms`;

/** One line per phase: per CPU-second, throughput, latency, and what went wrong if anything. */
export function phaseLine(p: PhaseResult): string {
  const bad = p.notifications - p.accepted;
  const extra = [
    bad ? `${JSON.stringify(p.statuses)} ${p.errors} errors ${p.timeouts} timeouts` : '',
    p.sinks
      ? `events ${p.sinks.events}/${p.sinks.expectedEvents}, alerts ${p.sinks.alerts}/${p.sinks.expectedAlerts}`
      : '',
    p.handshakes ? `TLS ${p.handshakes.resumed}/${p.handshakes.total} resumed` : '',
    p.settleSeconds > 0.2 ? `${p.settleSeconds} s after the last answer` : '',
  ].filter(Boolean);
  return `${p.perCpuSecond} /CPU-s  ${p.throughputPerSecond}/s${p.offeredRatePerSecond ? ` (offered ${p.offeredRatePerSecond})` : ''}  ${lat(p.latencyMs)}  [CPU ${p.serverCpuSeconds} s: ${p.serverCpuSecondsByProcess.join(', ')}]${extra.length ? `  ${extra.join('; ')}` : ''}`;
}

/** The terminal table of a run. */
export function runRows(run: BenchRun, judged: Record<string, Target>): [string, string][] {
  const rows: [string, string][] = [];
  const b = run.bound;
  if (b) {
    rows.push([
      'bound: privateDecrypt RSA-OAEP-256',
      `${b.privateDecryptPerSecond} /CPU-s (one thread, median of ${b.samples.length} samples ${Math.min(...b.samples)}-${Math.max(...b.samples)})`,
    ]);
    rows.push(['bound + PS256 verify', `${b.rsaPairNotificationsPerSecond} /CPU-s`]);
    if (b.allCores)
      rows.push([
        `bound, ${b.allCores.processes} processes at once`,
        `${b.allCores.privateDecryptPerSecond} /CPU-s each (${round(b.allCores.privateDecryptPerSecond / b.privateDecryptPerSecond, 2)} × the bound)`,
      ]);
  }
  for (const r of [
    ...MAX_ROWS,
    ...BANK_PART_ROWS,
    ...TRACED_ROWS,
    { ...TOKEN_ROW, row: 0 },
    { ...PEER_ROW, row: 0 },
    { ...CEILING_ROW, row: 0 },
  ]) {
    const p = run.max.get(r.key);
    if (p) rows.push([`${r.row ? `${r.row} ` : ''}${r.key}`, phaseLine(p)]);
    const f = run.fixed.get(r.key);
    if (f) rows.push([`${r.row ? `${r.row} ` : ''}${r.key} @80 %`, phaseLine(f)]);
  }
  if (run.postgres) rows.push(['4 postgres, two instances', phaseLine(run.postgres)]);
  for (const o of run.overload)
    rows.push([
      `5 overload ${o.factor}x ${o.connection} (${o.offeredRatePerSecond}/s, ${o.seconds} s)`,
      `goodput ${o.goodputPerSecond}/s (${o.goodputRatio} of ${o.maxThroughputPerSecond}); 200 ${o.answers.ok}, 500 ${o.answers.shed}, refused ${o.answers.refused}, timeouts ${o.answers.timeouts}, errors ${o.answers.errors}, other ${o.answers.other}; all ${lat(o.latencyMs.all)}${o.latencyMs.shed ? `, 500s p99 ${o.latencyMs.shed.p99} ms` : ''}${o.latencyMs.refused ? `, refusals seen p99 ${o.latencyMs.refused.p99} ms` : ''}; back to normal ${o.recovery.backToNormalSeconds ?? 'not within the probe'} s; client CPU ${o.client.cpuSeconds} s, ${o.client.lateSends} sent late; RSS ${mb(o.rss.afterWarmupBytes)} → peak ${mb(o.rss.peakBytes)}; CPU ${o.cpu.totalSeconds} s [${o.cpu.byProcess.join(', ')}], ${o.cpu.afterLoadSeconds} s after the load; stored: ${o.stored.answered} answered, ${o.stored.clientGone} whose client gave up, ${o.stored.shedButStored} answered 500, ${o.stored.refusedButStored} refused; retries ${o.retries.ok}/${o.retries.sent} 200, then ${o.retries.storedAfter}/${o.retries.distinct} stored`,
    ]);
  if (run.memory) {
    const x = run.memory;
    rows.push([
      `6 memory, ${x.offeredRatePerSecond}/s for ${Math.round(x.durationSeconds)} s`,
      `RSS ${mb(x.startBytes)} / ${mb(x.midBytes)} / ${mb(x.endBytes)} (start / middle / end), ${x.growthSecondHalfPercent} % over the second half; ${lat(x.latencyMs)}; accepted ${x.accepted}/${x.notifications}`,
    ]);
  }
  for (const [k, v] of Object.entries(judged))
    if (v.value !== null)
      rows.push([
        `target ${k} ${v.target}`,
        `${v.value}  ${v.met === null ? '' : v.met ? 'met' : 'NOT met'}`,
      ]);
  return rows;
}
