import { api, query } from '../api';
import { BarRows } from '../charts';
import { Empty, ErrorBanner, Kpi, PageHeader, Panel, useLoad } from '../components';
import { fmtNum, RISK_REASONS } from '../format';
import { LEVEL_LABELS } from '../labels';
import { href, type Route } from '../router';
import type { EvaluationReport, RiskLevel } from '../types';

const WINDOWS: { days: string; label: string }[] = [
  { days: '7', label: 'Last 7 days' },
  { days: '30', label: 'Last 30 days' },
  { days: '90', label: 'Last 90 days' },
  { days: '', label: 'Everything stored' },
];
const LABELS = [
  { label: 'fraud', cls: 'fill-bad' },
  { label: 'legitimate', cls: 'fill-ok' },
  { label: 'unlabelled', cls: 'fill-muted' },
];
const pct = (n: number | null) => (n === null ? '—' : `${(100 * n).toFixed(1)}%`);

/**
 * How the rules do against what the bank learnt (dispositions and cardholders' answers): the
 * same figures as `ctp-notify risk evaluate`.
 */
export function Evaluation({ route }: { route: Route }) {
  const days = route.params.get('days') ?? '30';
  const since = days ? new Date(Date.now() - Number(days) * 86_400_000).toISOString() : undefined;
  const e = useLoad(
    () => api<EvaluationReport>('GET', `/api/risk/evaluation${query({ since })}`),
    [days],
  );
  const r = e.data;
  const levels = Object.keys(LEVEL_LABELS) as RiskLevel[];
  return (
    <>
      <PageHeader
        title="Evaluation"
        subtitle="Assessed level against labels: an analyst's disposition, else the cardholder's answer. Try a change first with ctp-notify risk backtest."
        actions={
          <select
            name="window"
            value={days}
            onChange={(ev) => {
              location.hash = href('evaluation', {
                days: (ev.target as HTMLSelectElement).value || undefined,
              });
            }}
          >
            {WINDOWS.map((w) => (
              <option key={w.days} value={w.days}>
                {w.label}
              </option>
            ))}
          </select>
        }
      />
      <ErrorBanner error={e.error} />
      {r ? (
        <>
          <div class="kpis">
            <Kpi label="Assessed attempts" value={fmtNum(r.attempts)} />
            <Kpi
              label="Labelled"
              value={fmtNum(r.labelled)}
              hint={r.attempts ? `${pct(r.labelled / r.attempts)} of attempts` : undefined}
            />
            <Kpi label="Fraud" value={fmtNum(r.fraud)} tone="bad" />
            <Kpi label="Legitimate" value={fmtNum(r.legitimate)} tone="ok" />
          </div>
          <div class="grid-2-1">
            <Panel title="By level">
              <BarRows
                label="Attempts per level by label"
                parts={LABELS}
                rows={levels.map((l) => {
                  const c = r.matrix[l];
                  const labelled = c.fraud + c.legitimate;
                  return {
                    label: l,
                    values: [c.fraud, c.legitimate, c.unlabelled],
                    note: pct(labelled ? c.fraud / labelled : null),
                  };
                })}
              />
            </Panel>
            <Panel title="Confusion matrix">
              <table class="table compact matrix" id="confusion-matrix">
                <thead>
                  <tr>
                    <th>Level</th>
                    <th>Fraud</th>
                    <th>Legitimate</th>
                    <th>Unlabelled</th>
                    <th>Precision</th>
                  </tr>
                </thead>
                <tbody>
                  {levels.map((l) => {
                    const c = r.matrix[l];
                    const labelled = c.fraud + c.legitimate;
                    return (
                      <tr key={l} data-level={l}>
                        <td>{l}</td>
                        <td>{fmtNum(c.fraud)}</td>
                        <td>{fmtNum(c.legitimate)}</td>
                        <td>{fmtNum(c.unlabelled)}</td>
                        <td>{pct(labelled ? c.fraud / labelled : null)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </Panel>
          </div>
          <Panel title="Reason codes: firings by label, and precision on labelled attempts">
            {r.reasons.length ? (
              <>
                <BarRows
                  label="Reason codes by label"
                  parts={LABELS}
                  rows={r.reasons.map((c) => ({
                    label: c.mode === 'shadow' ? `${c.code} (shadow)` : c.code,
                    values: [c.fraud, c.labelled - c.fraud, c.fired - c.labelled],
                    note: pct(c.precision),
                  }))}
                />
                <table class="table compact matrix" id="reason-table">
                  <thead>
                    <tr>
                      <th>Code</th>
                      <th>Fired</th>
                      <th>Labelled</th>
                      <th>Fraud</th>
                      <th>Precision</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.reasons.map((c) => (
                      <tr key={`${c.mode}:${c.code}`} data-code={c.code}>
                        <td title={RISK_REASONS[c.code] ?? ''}>
                          <code>{c.code}</code>{' '}
                          {c.mode === 'shadow' ? <span class="muted small">shadow</span> : null}
                        </td>
                        <td>{fmtNum(c.fired)}</td>
                        <td>{fmtNum(c.labelled)}</td>
                        <td>{fmtNum(c.fraud)}</td>
                        <td>{pct(c.precision)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            ) : (
              <Empty>No reason fired in this window.</Empty>
            )}
          </Panel>
        </>
      ) : e.loading ? (
        <div class="loading">Loading…</div>
      ) : null}
    </>
  );
}
