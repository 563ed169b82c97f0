import { execFile, execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchKeys } from './bench-keys.js';
import { type PhaseOptions, type PhaseResult, runInterleaved, runPhase } from './bench-phase.js';
import {
  BANK_PART_ROWS,
  type BenchRow,
  CEILING_ROW,
  MAX_ROWS,
  PEER_ROW,
  TOKEN_ROW,
  TRACED_ROWS,
} from './bench-rows.js';
import type { BenchToken } from './bench-token.js';
import { median } from './latency-stats.js';
import type { BoundResult } from './measure-bound.js';

/** Phase options every row shares (the rest comes from the row). */
export type PhaseBase = Omit<PhaseOptions, 'name' | 'receiver' | 'service' | 'client'>;

/** Single-thread privateDecrypt (and PS256 verify) rates, measured in a process of their own. */
export function measureBound(keys: BenchKeys, seconds = 3): BoundResult {
  const script = fileURLToPath(new URL('./measure-bound.js', import.meta.url));
  return JSON.parse(
    execFileSync(process.execPath, [script, keys.issuerKeyFile, String(seconds)], {
      encoding: 'utf8',
    }),
  ) as BoundResult;
}

/**
 * The bound's operation in one process per core, all at once: what one RSA operation costs when
 * every core is busy, as it is when the service runs a worker per core. On a virtual machine the
 * cores may share a physical core's units or caches, and then each operation costs more CPU.
 */
export async function measureBoundAllCores(
  keys: BenchKeys,
  seconds = 3,
): Promise<{ processes: number; privateDecryptPerSecond: number }> {
  const script = fileURLToPath(new URL('./measure-bound.js', import.meta.url));
  const processes = availableParallelism();
  const runs = await Promise.all(
    Array.from({ length: processes }, () =>
      promisify(execFile)(process.execPath, [script, keys.issuerKeyFile, String(seconds)], {
        encoding: 'utf8',
      }),
    ),
  );
  const rates = runs.map((r) => (JSON.parse(r.stdout) as BoundResult).privateDecryptPerSecond);
  return { processes, privateDecryptPerSecond: Math.round(median(rates)) };
}

export interface BoundOverRun extends BoundResult {
  samples: number[];
  rsaPairNotificationsPerSecond: number;
  /** The bound's operation on every core at once (`measureBoundAllCores`), once per run. */
  allCores?: { processes: number; privateDecryptPerSecond: number };
}

/**
 * The bound, sampled before the receivers' turns and again after every round of them, and
 * reported as the median of the samples: this machine's speed drifts by tens of percent over
 * minutes (other guests on the host), and a bound taken once, before, compared a quiet minute
 * with a busy one. The samples are kept in latest.json.
 */
function boundOverRun(samples: BoundResult[]): BoundOverRun {
  const dec = Math.round(median(samples.map((x) => x.privateDecryptPerSecond)));
  const ver = Math.round(median(samples.map((x) => x.ps256VerifyPerSecond)));
  return {
    privateDecryptPerSecond: dec,
    privateDecryptPerWallSecond: Math.round(
      median(samples.map((x) => x.privateDecryptPerWallSecond)),
    ),
    ps256VerifyPerSecond: ver,
    seconds: samples.reduce((t, x) => t + x.seconds, 0),
    samples: samples.map((x) => x.privateDecryptPerSecond),
    rsaPairNotificationsPerSecond: Math.round(1 / (1 / dec + 1 / ver)),
  };
}

export interface MaxResults {
  bound: BoundOverRun;
  /** Row key (bench-rows.ts), `peer`, `ceiling` → its phase at the maximum. */
  max: Map<string, PhaseResult>;
  /** Row key → its phase at a fixed rate (80 % of a maximum). */
  fixed: Map<string, PhaseResult>;
}

/** Notifications per turn when receivers are measured in turns. */
const STRETCH = 2500;

/**
 * The bound, then the chosen rows of MAX_ROWS with the peer and the ceiling in turns, closed
 * loop; then, open loop, the receive path at 80 % of its maximum, and the bank configuration
 * plain and over mutual TLS at 80 % of the bank configuration's maximum.
 */
export async function runMax(
  base: PhaseBase,
  o: {
    rows: readonly number[];
    peer: boolean;
    ceiling: boolean;
    fixedRate: boolean;
    /** Row 2 with parts left out (BANK_PART_ROWS), in the same turns. */
    parts?: boolean;
    /** Rows 1 and 2 with traces exported (TRACED_ROWS), in the same turns. */
    traces?: boolean;
    /** Row 1 again with the issuer key in this token, in the same turns. */
    token?: BenchToken | undefined;
  },
): Promise<MaxResults> {
  base.log(
    'measuring the bound: single-thread crypto.privateDecrypt RSA-OAEP-256, now and after every round',
  );
  const samples: BoundResult[] = [measureBound(base.keys)];
  const rows = [
    ...MAX_ROWS.filter((r) => o.rows.includes(r.row)),
    ...(o.parts && o.rows.includes(2) ? BANK_PART_ROWS : []),
    ...(o.traces ? TRACED_ROWS.filter((r) => o.rows.includes(r.row)) : []),
  ];
  const phase = (r: BenchRow): PhaseOptions => ({
    ...base,
    name: r.key,
    receiver: r.receiver,
    ...(r.service ? { service: r.service } : {}),
    ...(r.client ? { client: r.client } : {}),
  });
  const list: PhaseOptions[] = [
    ...rows.map(phase),
    ...(o.token && o.rows.includes(1)
      ? [
          {
            ...base,
            name: TOKEN_ROW.key,
            receiver: 'service' as const,
            service: { risk: false, bank: false, token: o.token },
          },
        ]
      : []),
    ...(o.peer ? [{ ...base, name: PEER_ROW.key, receiver: 'peer' as const }] : []),
    ...(o.ceiling ? [{ ...base, name: CEILING_ROW.key, receiver: 'ceiling' as const }] : []),
  ];
  const allCores = await measureBoundAllCores(base.keys);
  const results = await runInterleaved(list, STRETCH, () =>
    samples.push(measureBound(base.keys, 1)),
  );
  const max = new Map(list.map((p, i) => [p.name, results[i]!]));
  const fixed = new Map<string, PhaseResult>();
  if (o.fixedRate) {
    const connections = Math.max(base.concurrency, 64);
    const at80 = (key: string) => Math.max(1, Math.round(max.get(key)!.throughputPerSecond * 0.8));
    const plan: [BenchRow, number][] = [];
    for (const r of rows) {
      if (r.key === 'receive') plan.push([r, at80('receive')]);
      else if ((r.key === 'bank' || r.key === 'bank-mtls') && max.has('bank'))
        plan.push([r, at80('bank')]);
    }
    for (const [r, rate] of plan)
      fixed.set(
        r.key,
        await runPhase({ ...phase(r), name: `${r.key}-fixed`, rate, concurrency: connections }),
      );
  }
  return { bound: { ...boundOverRun(samples), allCores }, max, fixed };
}
