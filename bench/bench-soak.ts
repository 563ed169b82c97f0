import type { PhaseBase } from './bench-max.js';
import { type PhaseResult, round, runPhase } from './bench-phase.js';
import { BANK } from './bench-rows.js';

/** Row 6: what latest.json keeps of the memory soak. */
export interface SoakResult {
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
  flatCriterion: string;
  latencyMs: PhaseResult['latencyMs'];
  phase: PhaseResult;
}

/**
 * Row 6: row 2's configuration (bank) at a modest fixed rate for `seconds`, the RSS of every
 * server process sampled every 5 s. Bounded caches (V8's heap sizing, SQLite's page cache of
 * 16 MB per connection) fill during the first part of a run; a leak keeps growing. So the
 * verdict is on the second half.
 */
export async function runSoak(base: PhaseBase, rate: number, seconds: number): Promise<SoakResult> {
  const p = await runPhase({
    ...base,
    name: 'memory',
    receiver: 'service',
    service: BANK,
    rate,
    count: rate * seconds,
    concurrency: Math.max(base.concurrency, 64),
    memorySampleMs: 5000,
  });
  const start = p.rss.afterWarmupBytes;
  const mid = p.rss.samples.find((x) => x.atSeconds >= p.durationSeconds / 2) ?? p.rss.samples[0]!;
  const growthSecondHalf = round(((p.rss.endBytes - mid.rssBytes) / mid.rssBytes) * 100, 1);
  return {
    durationSeconds: p.durationSeconds,
    offeredRatePerSecond: rate,
    accepted: p.accepted,
    notifications: p.notifications,
    startBytes: start,
    midBytes: mid.rssBytes,
    endBytes: p.rss.endBytes,
    growthPercent: round(((p.rss.endBytes - start) / start) * 100, 1),
    growthSecondHalfPercent: growthSecondHalf,
    flat: growthSecondHalf <= 5 && p.accepted === p.notifications,
    flatCriterion:
      'RSS of the server process tree grows by at most 5 % over the second half of the run, and every notification is accepted',
    latencyMs: p.latencyMs,
    phase: p,
  };
}
