/** Latency summary in milliseconds, exact (from every sample, not a histogram). */
export interface LatencySummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `samples` (ms). */
export function summarise(samples: Float64Array): LatencySummary {
  const s = Float64Array.from(samples).sort();
  const n = s.length;
  const at = (q: number) =>
    n === 0 ? NaN : s[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let sum = 0;
  for (const v of s) sum += v;
  const r = (v: number) => Math.round(v * 100) / 100;
  return {
    p50: r(at(0.5)),
    p99: r(at(0.99)),
    p999: r(at(0.999)),
    max: r(n ? s[n - 1]! : NaN),
    mean: r(sum / n),
  };
}

/** The median of `xs` (the mean of the two middle values when their count is even). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
