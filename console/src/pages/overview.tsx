import { api } from '../api';
import { Donut, StackedBars } from '../charts';
import {
  Empty,
  ErrorBanner,
  Kpi,
  PageHeader,
  Panel,
  RiskBadge,
  StatusBadge,
  useLoad,
} from '../components';
import { ago, enrollerName, fmtNum, maskedCard, REASONS } from '../format';
import { href } from '../router';
import type { NotificationItem, Page, Stats } from '../types';

export function Overview() {
  const stats = useLoad(() => api<Stats>('GET', '/api/stats?hours=24'), []);
  const recent = useLoad(
    () => api<Page<NotificationItem>>('GET', '/api/notifications?limit=6'),
    [],
  );
  const s = stats.data;
  const queue = s?.quarantineQueue.reduce((n, r) => n + r.count, 0) ?? 0;
  return (
    <>
      <PageHeader
        title="Overview"
        subtitle="Last 24 hours of Click to Pay enrollment notifications from Visa"
        actions={
          <button
            type="button"
            class="btn"
            onClick={() => {
              stats.reload();
              recent.reload();
            }}
          >
            Refresh
          </button>
        }
      />
      <ErrorBanner error={stats.error} />
      {s ? (
        <>
          <div class="kpis">
            <Kpi
              label="Attempts (24 h)"
              value={fmtNum(s.totals.received)}
              hint={`${fmtNum(s.totals.accepted)} accepted · ${fmtNum(s.totals.quarantined)} quarantined`}
            />
            <Kpi
              label="High risk (24 h)"
              value={<a href={href('notifications', { risk: 'high' })}>{fmtNum(s.risk.high)}</a>}
              tone={s.risk.high ? 'bad' : undefined}
              hint={`${fmtNum(s.risk.medium)} medium`}
            />
            <Kpi
              label="Quarantine queue"
              value={<a href={href('quarantine')}>{fmtNum(queue)}</a>}
              tone={queue ? 'warn' : undefined}
              hint="awaiting an analyst"
            />
            <Kpi
              label="Failed deliveries"
              value={
                <a href={href('deliveries')}>{fmtNum(s.deliveries.dead + s.deliveries.retrying)}</a>
              }
              tone={s.deliveries.dead ? 'bad' : s.deliveries.retrying ? 'warn' : undefined}
              hint={`${fmtNum(s.deliveries.dead)} dead · ${fmtNum(s.deliveries.retrying)} retrying`}
            />
            <Kpi
              label="Keys expiring"
              value={<a href={href('keys')}>{fmtNum(s.keys.expiring + s.keys.expired)}</a>}
              tone={s.keys.expired ? 'bad' : s.keys.expiring ? 'warn' : undefined}
              hint="within the warning window"
            />
          </div>
          <div class="grid-2-1">
            <Panel title="Attempts per hour">
              <StackedBars
                labels={s.hours.map((h) => h.hour)}
                series={[
                  { label: 'Accepted', cls: 'fill-ok', values: s.hours.map((h) => h.accepted) },
                  {
                    label: 'Quarantined',
                    cls: 'fill-warn',
                    values: s.hours.map((h) => h.quarantined),
                  },
                ]}
              />
            </Panel>
            <Panel title="Risk mix (24 h)">
              <Donut
                label="assessed"
                parts={[
                  { label: 'High', value: s.risk.high, cls: 'fill-bad' },
                  { label: 'Medium', value: s.risk.medium, cls: 'fill-warn' },
                  { label: 'Low', value: s.risk.low, cls: 'fill-ok' },
                ]}
              />
              <div class="small muted donut-note">
                Accepted {fmtNum(s.totals.accepted)} · quarantined {fmtNum(s.totals.quarantined)}
              </div>
            </Panel>
          </div>
          <div class="grid-2">
            <Panel
              title="Latest notifications"
              actions={
                <a href={href('notifications')} class="link">
                  All notifications →
                </a>
              }
            >
              <ErrorBanner error={recent.error} />
              {recent.data?.items.length ? (
                <table class="table compact">
                  <tbody>
                    {recent.data.items.map((n) => (
                      <tr
                        key={n.id}
                        class="clickable"
                        onClick={() => (location.hash = href(`notifications/${n.id}`))}
                      >
                        <td class="nowrap muted">{ago(n.receivedAt)}</td>
                        <td>
                          <StatusBadge status={n.status} />
                        </td>
                        <td>
                          <RiskBadge risk={n.risk} />
                        </td>
                        <td class="mono">{maskedCard(n.panBin, n.panLast4)}</td>
                        <td>{enrollerName(n.enroller)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <Empty>
                  No notifications yet. Send one with <code>npx ctp-notify send</code>.
                </Empty>
              )}
            </Panel>
            <Panel
              title="Quarantine queue by reason"
              actions={
                <a href={href('quarantine')} class="link">
                  Open queue →
                </a>
              }
            >
              {s.quarantineQueue.length ? (
                <table class="table compact">
                  <tbody>
                    {s.quarantineQueue.map((r) => (
                      <tr key={r.reason}>
                        <td>
                          <code>{r.reason}</code>
                        </td>
                        <td class="muted">{REASONS[r.reason] ?? ''}</td>
                        <td class="num">{fmtNum(r.count)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <Empty>Nothing in quarantine.</Empty>
              )}
            </Panel>
          </div>
        </>
      ) : stats.loading ? (
        <div class="loading">Loading…</div>
      ) : null}
    </>
  );
}
