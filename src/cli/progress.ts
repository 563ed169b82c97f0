/** A progress line for long commands. */
export interface Progress {
  /** `done` units of `total` so far (`total` may be unknown). */
  update(done: number, total?: number): void;
  /** Ends the line. */
  end(): void;
}

const QUIET: Progress = { update() {}, end() {} };

/**
 * A progress line on stderr (done, rate, time left), redrawn at most every `intervalMs`
 * (default 250), and nothing at all when stderr is not a terminal or `quiet` is set, so that
 * scripts and JSON output stay clean.
 */
export function progress(
  label: string,
  options: {
    quiet?: boolean;
    unit?: string;
    intervalMs?: number;
    stream?: NodeJS.WriteStream;
  } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet || !stream.isTTY) return QUIET;
  const unit = options.unit ?? '';
  const interval = options.intervalMs ?? 250;
  const started = performance.now();
  let last = 0;
  let shown = false;
  const draw = (done: number, total: number | undefined) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const parts = [
      total === undefined
        ? `${done}${unit}`
        : `${done}/${total}${unit} (${Math.floor((done / Math.max(total, 1)) * 100)} %)`,
    ];
    if (rate > 0) parts.push(`${Math.round(rate)}${unit}/s`);
    if (total !== undefined && rate > 0 && done < total)
      parts.push(`${formatSeconds((total - done) / rate)} left`);
    stream.write(`\r\x1b[2K${label}: ${parts.join(', ')}`);
    shown = true;
  };
  let latest: [number, number | undefined] = [0, undefined];
  return {
    update(done, total) {
      latest = [done, total];
      const now = performance.now();
      if (now - last < interval) return;
      last = now;
      draw(done, total);
    },
    end() {
      if (latest[0] > 0 || shown) draw(...latest);
      if (shown) stream.write('\n');
    },
  };
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
