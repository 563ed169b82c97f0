import { fmtHour, fmtNum } from './format';

interface Series {
  label: string;
  cls: string;
  values: number[];
}

/** Stacked bars over time, hand-drawn SVG (no chart library: a few lines, no CSP exceptions). */
export function StackedBars({
  labels,
  series,
  height = 200,
}: {
  labels: string[];
  series: Series[];
  height?: number;
}) {
  const width = 720;
  const pad = { l: 36, r: 8, t: 10, b: 24 };
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const iw = width - pad.l - pad.r;
  const ih = height - pad.t - pad.b;
  const bw = iw / Math.max(1, labels.length);
  // Coordinates rounded to 0.1 px: crisp enough, and no long digit runs in the page.
  const y = (v: number) => r1(pad.t + ih - (v / top) * ih);
  const ticks = Array.from({ length: Math.floor(top / step) + 1 }, (_, i) => i * step);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Notifications per hour">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={width - pad.r} y1={y(t)} y2={y(t)} class="grid" />
            <text x={pad.l - 6} y={y(t) + 4} class="axis" text-anchor="end">
              {fmtNum(t)}
            </text>
          </g>
        ))}
        {labels.map((l, i) => {
          let acc = 0;
          return (
            <g key={l}>
              <title>{`${fmtHour(l)}: ${series.map((s) => `${s.label} ${s.values[i] ?? 0}`).join(', ')}`}</title>
              {series.map((s) => {
                const v = s.values[i] ?? 0;
                const y0 = y(acc);
                acc += v;
                return v > 0 ? (
                  <rect
                    key={s.label}
                    x={r1(pad.l + i * bw + bw * 0.15)}
                    width={r1(bw * 0.7)}
                    y={y(acc)}
                    height={r1(Math.max(0, y0 - y(acc)))}
                    class={s.cls}
                  />
                ) : null;
              })}
              {i % Math.ceil(labels.length / 8) === 0 ? (
                <text
                  x={r1(pad.l + i * bw + bw / 2)}
                  y={height - 6}
                  class="axis"
                  text-anchor="middle"
                >
                  {fmtHour(l)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        {series.map((s) => (
          <span key={s.label}>
            <i class={`swatch ${s.cls}`} />
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** A donut of parts of a whole, with the legend carrying the numbers. */
export function Donut({
  parts,
  label,
}: {
  parts: { label: string; value: number; cls: string }[];
  label: string;
}) {
  const total = parts.reduce((s, p) => s + p.value, 0);
  const r = 52;
  const c = 2 * Math.PI * r;
  let offset = 0;
  return (
    <figure class="donut">
      <svg viewBox="0 0 140 140" role="img" aria-label={label}>
        <circle cx="70" cy="70" r={r} class="donut-track" />
        {total > 0
          ? parts.map((p) => {
              const len = r1((p.value / total) * c);
              const el = (
                <circle
                  key={p.label}
                  cx="70"
                  cy="70"
                  r={r}
                  class={`donut-part ${p.cls}`}
                  stroke-dasharray={`${len} ${r1(c - len)}`}
                  stroke-dashoffset={r1(-offset)}
                  transform="rotate(-90 70 70)"
                />
              );
              offset += len;
              return el;
            })
          : null}
        <text x="70" y="68" text-anchor="middle" class="donut-total">
          {fmtNum(total)}
        </text>
        <text x="70" y="86" text-anchor="middle" class="donut-caption">
          {label}
        </text>
      </svg>
      <figcaption class="legend legend-col">
        {parts.map((p) => (
          <span key={p.label}>
            <i class={`swatch ${p.cls}`} />
            {p.label} <b>{fmtNum(p.value)}</b>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

function niceStep(max: number): number {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return Math.max(1, (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag);
}

function r1(n: number): number {
  return Math.round(n * 10) / 10;
}

/**
 * Horizontal stacked bars, one row per label, with a value printed at the row's end (e.g.
 * the reason codes' firings split by label, and their precision).
 */
export function BarRows({
  rows,
  parts,
  label,
}: {
  rows: { label: string; values: number[]; note?: string }[];
  parts: { label: string; cls: string }[];
  label: string;
}) {
  const width = 720;
  const rowH = 22;
  const pad = { l: 170, r: 70, t: 4 };
  const height = pad.t * 2 + rows.length * rowH;
  const max = Math.max(1, ...rows.map((r) => r.values.reduce((s, v) => s + v, 0)));
  const iw = width - pad.l - pad.r;
  return (
    <figure class="chart bar-rows">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
        {rows.map((r, i) => {
          const y = pad.t + i * rowH;
          let x = pad.l;
          return (
            <g key={r.label}>
              <title>{`${r.label}: ${parts.map((p, k) => `${p.label} ${r.values[k] ?? 0}`).join(', ')}`}</title>
              <text x={pad.l - 8} y={y + 15} text-anchor="end">
                {r.label}
              </text>
              {r.values.map((v, k) => {
                const w = r1((v / max) * iw);
                const el =
                  v > 0 ? (
                    <rect
                      key={parts[k]!.label}
                      x={r1(x)}
                      y={y + 4}
                      width={w}
                      height={rowH - 8}
                      class={parts[k]!.cls}
                    />
                  ) : null;
                x += w;
                return el;
              })}
              {r.note ? (
                <text x={width - pad.r + 8} y={y + 15} class="value">
                  {r.note}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        {parts.map((p) => (
          <span key={p.label}>
            <i class={`swatch ${p.cls}`} />
            {p.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
