import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchKeys } from './bench-keys.js';
import {
  type PhaseOptions,
  type PhaseResult,
  round,
  runInterleaved,
  runPhase,
} from './bench-phase.js';
import { type Machine, phaseRows, table, targets } from './bench-report.js';
import type { BenchToken } from './bench-token.js';
import { median } from './latency-stats.js';
import type { BoundResult } from './measure-bound.js';

/** Notifications per turn when receivers are measured in turns. */
const STRETCH = 2500;

export interface ModeContext {
  base: Omit<PhaseOptions, 'name' | 'receiver'>;
  keys: BenchKeys;
  command: string;
  machine: Machine;
  resultsDir: string;
  log: (s: string) => void;
}

const withEndLoad = (m: Machine): Machine => ({
  ...m,
  loadAverage1m: { ...m.loadAverage1m, end: round(loadavg()[0]!, 2) },
});

/** Single-thread privateDecrypt (and PS256 verify) rates, measured in a process of their own. */
export function measureBound(ctx: ModeContext, seconds = 3): BoundResult {
  const script = fileURLToPath(new URL('./measure-bound.js', import.meta.url));
  return JSON.parse(
    execFileSync(process.execPath, [script, ctx.keys.issuerKeyFile, String(seconds)], {
      encoding: 'utf8',
    }),
  ) as BoundResult;
}

/**
 * The bound, sampled before the receivers' turns and again after every round of them, and
 * reported as the median of the samples: this machine's speed drifts by tens of percent over
 * minutes (other guests on the host), and a bound taken once, before, compared a quiet minute
 * with a busy one. The samples are kept in latest.json.
 */
function boundOverRun(samples: BoundResult[]): BoundResult & { samples: number[] } {
  return {
    privateDecryptPerSecond: Math.round(median(samples.map((x) => x.privateDecryptPerSecond))),
    privateDecryptPerWallSecond: Math.round(
      median(samples.map((x) => x.privateDecryptPerWallSecond)),
    ),
    ps256VerifyPerSecond: Math.round(median(samples.map((x) => x.ps256VerifyPerSecond))),
    seconds: samples.reduce((t, x) => t + x.seconds, 0),
    samples: samples.map((x) => x.privateDecryptPerSecond),
  };
}

/**
 * max: the bound, then, in turns at fixed concurrency, the service's receive path (risk
 * assessment off: what the throughput targets are about), the service as configured by default
 * (risk assessment of every accepted notification after its 200), and the peer; fixed-rate: both
 * service configurations at an offered rate (default 80 % of the max each reached); all: both,
 * in one run. Writes latest.json (all, max) or latest-fixed-rate.json.
 */
export async function runMaxAndFixedRate(
  ctx: ModeContext,
  mode: 'all' | 'max' | 'fixed-rate',
  o: { rate?: number | undefined; peer: boolean; ceiling: boolean; token?: BenchToken | undefined },
): Promise<{ file: string; result: Record<string, unknown> }> {
  const { base, command, resultsDir } = ctx;
  const m = ctx.machine;
  const maxToo = !(mode === 'fixed-rate' && o.rate);
  if (maxToo)
    ctx.log(
      'measuring the bound: single-thread crypto.privateDecrypt RSA-OAEP-256, now and after every round',
    );
  const boundSamples: BoundResult[] = maxToo ? [measureBound(ctx)] : [];
  let service: PhaseResult | undefined;
  let withRisk: PhaseResult | undefined;
  let peer: PhaseResult | undefined;
  let ceiling: PhaseResult | undefined;
  let token: PhaseResult | undefined;
  if (maxToo) {
    // In turns (runInterleaved), so that drifting load from other work on a shared machine
    // weighs on all of them alike and the ratios between them stay meaningful.
    const list: PhaseOptions[] = [
      { ...base, name: 'service-max', receiver: 'service', risk: false },
      { ...base, name: 'service-risk-max', receiver: 'service', risk: true },
      // The receive path again with the issuer key in a token: what the token costs.
      ...(mode !== 'fixed-rate' && o.token
        ? [
            {
              ...base,
              name: 'service-token-max',
              receiver: 'service' as const,
              risk: false,
              token: o.token,
            },
          ]
        : []),
      ...(mode !== 'fixed-rate' && o.peer
        ? [{ ...base, name: 'peer-max', receiver: 'peer' as const }]
        : []),
      ...(mode !== 'fixed-rate' && o.ceiling
        ? [{ ...base, name: 'ceiling-max', receiver: 'ceiling' as const }]
        : []),
    ];
    const results = await runInterleaved(list, STRETCH, () =>
      boundSamples.push(measureBound(ctx, 1)),
    );
    [service, withRisk] = results;
    peer = results.find((r) => r.receiver === 'peer');
    ceiling = results.find((r) => r.receiver === 'ceiling');
    token = results.find((r) => r.issuerKey === 'softhsm-rsa-raw');
  }
  const b = boundSamples.length > 0 ? boundOverRun(boundSamples) : undefined;
  let fixed: PhaseResult | undefined;
  let fixedWithRisk: PhaseResult | undefined;
  if (mode !== 'max') {
    const connections = Math.max(base.concurrency, 64);
    const at = (p: PhaseResult | undefined) =>
      o.rate ?? Math.max(1, Math.round(p!.throughputPerSecond * 0.8));
    fixed = await runPhase({
      ...base,
      name: 'service-fixed-rate',
      receiver: 'service',
      risk: false,
      rate: at(service),
      concurrency: connections,
    });
    fixedWithRisk = await runPhase({
      ...base,
      name: 'service-risk-fixed-rate',
      receiver: 'service',
      risk: true,
      rate: at(withRisk),
      concurrency: connections,
    });
  }
  const headline = service ?? fixed!;
  const judged = targets(headline, b, peer, fixed);
  const brief = (p: PhaseResult | undefined) =>
    p && {
      perCpuSecond: p.perCpuSecond,
      throughputPerSecond: p.throughputPerSecond,
      latencyMs: p.latencyMs,
      serverCpuSeconds: p.serverCpuSeconds,
    };
  const result = {
    command,
    date: new Date().toISOString(),
    mode,
    scope:
      'service figures: the receive path (verify, decrypt, validate, protect, durable store, per-request log line), risk assessment off; withRisk: the default configuration',
    perCpuSecond: headline.perCpuSecond,
    throughputPerSecond: headline.throughputPerSecond,
    latencyMs: headline.latencyMs,
    serverCpuSeconds: headline.serverCpuSeconds,
    bound: b
      ? {
          ...b,
          rsaPairNotificationsPerSecond: Math.round(
            1 / (1 / b.privateDecryptPerSecond + 1 / b.ps256VerifyPerSecond),
          ),
        }
      : null,
    ratioToBound: judged.ratioToBound,
    ratioToRsaPairBound: b
      ? round(
          headline.perCpuSecond /
            (1 / (1 / b.privateDecryptPerSecond + 1 / b.ps256VerifyPerSecond)),
          3,
        )
      : null,
    peer: brief(peer) ?? null,
    ratioToPeer: judged.ratioToPeer,
    // The same load on a receiver that does nothing but the bound's RSA operation per request
    // (bench/ceiling-receiver.ts): the share of the bound HTTP serving leaves on this machine.
    ceiling:
      ceiling && b
        ? {
            ...brief(ceiling),
            ratioToBound: round(ceiling.perCpuSecond / b.privateDecryptPerSecond, 3),
            serviceRatioToCeiling: round(headline.perCpuSecond / ceiling.perCpuSecond, 3),
          }
        : null,
    // The receive path with the issuer key in SoftHSM2 (CKM_RSA_X_509, OAEP decoded in the
    // service), in the same turns: the token's cost beside the file key's.
    tokenKey:
      token && service
        ? {
            ...brief(token),
            keyIn: 'SoftHSM2, mechanism rsa-raw',
            ratioToFileKey: round(token.perCpuSecond / service.perCpuSecond, 3),
          }
        : null,
    fixedRate: fixed ? { offeredRatePerSecond: fixed.offeredRatePerSecond, ...brief(fixed) } : null,
    withRisk:
      withRisk || fixedWithRisk
        ? {
            ...brief(withRisk),
            ratioToBound:
              withRisk && b ? round(withRisk.perCpuSecond / b.privateDecryptPerSecond, 3) : null,
            ratioToPeer:
              withRisk && peer ? round(withRisk.perCpuSecond / peer.perCpuSecond, 3) : null,
            fixedRate: fixedWithRisk
              ? {
                  offeredRatePerSecond: fixedWithRisk.offeredRatePerSecond,
                  ...brief(fixedWithRisk),
                }
              : null,
          }
        : null,
    targets: judged.targets,
    machine: withEndLoad(m),
    phases: {
      service: service ?? null,
      withRisk: withRisk ?? null,
      peer: peer ?? null,
      ceiling: ceiling ?? null,
      tokenKey: token ?? null,
      fixedRate: fixed ?? null,
      fixedRateWithRisk: fixedWithRisk ?? null,
    },
  };
  const out = join(resultsDir, mode === 'fixed-rate' ? 'latest-fixed-rate.json' : 'latest.json');
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const rows: [string, string][] = [];
  if (b) {
    rows.push([
      'bound: privateDecrypt RSA-OAEP-256',
      `${b.privateDecryptPerSecond} /CPU-s (one thread, median of ${b.samples.length} samples ${Math.min(...b.samples)}–${Math.max(...b.samples)}; ${b.privateDecryptPerWallSecond} /s wall)`,
    ]);
    rows.push([
      'bound: + PS256 verify, per notification',
      `${result.bound!.rsaPairNotificationsPerSecond} /CPU-s`,
    ]);
  }
  if (service) rows.push(...phaseRows('service', service));
  if (withRisk) rows.push(...phaseRows('service+risk', withRisk));
  if (token && result.tokenKey) {
    rows.push(...phaseRows('service, key in SoftHSM (rsa-raw)', token));
    rows.push([
      'key in SoftHSM / key in file, per CPU-second',
      `${result.tokenKey.ratioToFileKey}`,
    ]);
  }
  if (peer) rows.push(...phaseRows('peer', peer));
  if (ceiling) rows.push(...phaseRows('ceiling', ceiling).filter(([k]) => !k.includes('RSS')));
  if (result.ceiling)
    rows.push([
      'ceiling / bound; service / ceiling',
      `${result.ceiling.ratioToBound}; ${result.ceiling.serviceRatioToCeiling}`,
    ]);
  if (fixed) rows.push(...phaseRows(`service @${fixed.offeredRatePerSecond}/s`, fixed));
  if (fixedWithRisk)
    rows.push(...phaseRows(`service+risk @${fixedWithRisk.offeredRatePerSecond}/s`, fixedWithRisk));
  for (const [k, v] of Object.entries(judged.targets))
    if (v.value !== null)
      rows.push([`target ${k} ${v.target}`, `${v.value}  ${v.met ? 'met' : 'NOT met'}`]);
  console.log(
    `\n${command}  (${m.cores} cores, ${m.cpuModel}, Node ${m.node})\n${table(rows)}\n  written: ${out}\n`,
  );
  return { file: out, result };
}

/**
 * soak: the service as configured by default (risk assessment on) at a modest fixed rate for a
 * while, its memory sampled every 5 s.
 */
export async function runSoak(ctx: ModeContext, rate: number): Promise<SoakSummary> {
  const { base, command, resultsDir } = ctx;
  const m = ctx.machine;
  const soakRate = rate;
  const p = await runPhase({
    ...base,
    name: 'soak',
    receiver: 'service',
    risk: true,
    rate: soakRate,
    memorySampleMs: 5000,
  });
  const start = p.rss.afterWarmupBytes;
  const samples = p.rss.samples;
  // Bounded caches (V8 heap sizing, SQLite's page cache of 16 MB per connection) fill during
  // the first part of a run; a leak keeps growing. So the verdict is on the second half.
  const mid = samples.find((x) => x.atSeconds >= p.durationSeconds / 2) ?? samples[0]!;
  const growth = round(((p.rss.endBytes - start) / start) * 100, 1);
  const growthSecondHalf = round(((p.rss.endBytes - mid.rssBytes) / mid.rssBytes) * 100, 1);
  const result = {
    command,
    date: new Date().toISOString(),
    mode: 'soak',
    durationSeconds: p.durationSeconds,
    offeredRatePerSecond: soakRate,
    accepted: p.accepted,
    notifications: p.notifications,
    latencyMs: p.latencyMs,
    rss: {
      startBytes: start,
      midBytes: mid.rssBytes,
      endBytes: p.rss.endBytes,
      peakBytes: p.rss.peakBytes,
      growthPercent: growth,
      growthSecondHalfPercent: growthSecondHalf,
      afterStartBytes: p.rss.afterStartBytes,
      byProcess: p.rss.byProcess,
    },
    flat: growthSecondHalf <= 5 && p.accepted === p.notifications,
    flatCriterion:
      'RSS of the server process tree grows by at most 5 % over the second half of the run, and every notification is accepted',
    machine: withEndLoad(m),
    phase: p,
  };
  writeFileSync(join(resultsDir, 'latest-soak.json'), `${JSON.stringify(result, null, 2)}\n`);
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
  console.log(
    `\nsoak (${command})\n${table([
      ...phaseRows('service', p),
      ['RSS start / middle / end', `${mb(start)} / ${mb(mid.rssBytes)} / ${mb(p.rss.endBytes)}`],
      [
        'RSS growth: whole run / second half',
        `${growth} % / ${growthSecondHalf} % (flat: ${result.flat})`,
      ],
    ])}\n  written: ${join(resultsDir, 'latest-soak.json')}\n`,
  );
  return {
    durationSeconds: p.durationSeconds,
    offeredRatePerSecond: soakRate,
    accepted: p.accepted,
    notifications: p.notifications,
    startBytes: start,
    midBytes: mid.rssBytes,
    endBytes: p.rss.endBytes,
    growthPercent: growth,
    growthSecondHalfPercent: growthSecondHalf,
    flat: result.flat,
    latencyMs: p.latencyMs,
  };
}

/** What the soak adds to latest.json when it runs as part of `all`. */
export interface SoakSummary {
  durationSeconds: number;
  offeredRatePerSecond: number;
  accepted: number;
  notifications: number;
  startBytes: number;
  midBytes: number;
  endBytes: number;
  growthPercent: number;
  growthSecondHalfPercent: number;
  flat: boolean;
  latencyMs: PhaseResult['latencyMs'];
}
