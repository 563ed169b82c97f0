import { useState } from 'preact/hooks';
import { api, type Me, query } from '../api';
import {
  Badge,
  Empty,
  ErrorBanner,
  Notice,
  Options,
  PageHeader,
  Panel,
  StatusBadge,
  useLoad,
} from '../components';
import { ago, fmtNum, fmtTime } from '../format';
import { DELIVERY_STATUS_LABELS } from '../labels';
import { href, type Route } from '../router';
import type { DeliveryItem, Page, SinkItem } from '../types';

type Msg = { tone: 'ok' | 'error'; text: string } | undefined;

/**
 * Sinks and the dead-letter queue: what failed to reach the bank's systems, and the actions on it.
 */
export function Deliveries({ me, route }: { me: Me; route: Route }) {
  const status = route.params.get('status') ?? 'dead';
  const sink = route.params.get('sink') ?? '';
  const sinks = useLoad(() => api<{ items: SinkItem[] }>('GET', '/api/sinks'), []);
  const list = useLoad(
    () =>
      api<Page<DeliveryItem>>(
        'GET',
        `/api/deliveries${query({ status: status === 'all' ? undefined : status, sink, limit: 200 })}`,
      ),
    [status, sink],
  );
  const [msg, setMsg] = useState<Msg>();
  const [busy, setBusy] = useState(false);
  const [since, setSince] = useState<Record<string, string>>({});
  const analyst = me.role !== 'viewer';
  const admin = me.role === 'admin';

  const act = async (fn: () => Promise<string>) => {
    setBusy(true);
    setMsg(undefined);
    try {
      setMsg({ tone: 'ok', text: await fn() });
    } catch (e) {
      setMsg({ tone: 'error', text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
      sinks.reload();
      list.reload();
    }
  };
  const retry = (id: string) =>
    act(async () => {
      await api<{ retried: number }>('POST', `/api/deliveries/${id}/retry`);
      return 'Queued for delivery again.';
    });
  const retryDead = (s?: string) =>
    act(
      async () =>
        `${fmtNum((await api<{ retried: number }>('POST', '/api/deliveries/retry-dead', s ? { sink: s } : {})).retried)} dead deliveries queued again.`,
    );
  const replay = (s: string) =>
    act(async () => {
      const local = since[s];
      if (!local) throw new Error('Choose the time to replay from.');
      return `${fmtNum((await api<{ queued: number }>('POST', `/api/sinks/${s}/replay`, { since: new Date(local).toISOString() })).queued)} notifications queued again for ${s}.`;
    });
  const toggle = (s: SinkItem) =>
    act(async () => {
      await api(
        'POST',
        `/api/sinks/${s.name}/${s.disabledAt ? 'enable' : 'disable'}`,
        s.disabledAt ? undefined : {},
      );
      return `${s.name} ${s.disabledAt ? 'enabled' : 'disabled'}.`;
    });

  const items = list.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="Deliveries"
        subtitle="Each accepted notification is delivered to every sink at least once. Dead deliveries ran out of attempts: fix the sink, then retry."
      />
      {msg ? <Notice tone={msg.tone}>{msg.text}</Notice> : null}
      <ErrorBanner error={sinks.error ?? list.error} />
      <Panel title="Sinks">
        {sinks.data?.items.length ? (
          <div class="sink-cards" id="sinks-table">
            {sinks.data.items.map((s) => (
              <div
                key={s.name}
                class={`sink-card ${s.disabledAt ? 'sink-disabled' : ''}`}
                data-sink={s.name}
              >
                <div class="sink-head">
                  <b>{s.name}</b>
                  <span class="muted small">{s.type}</span>
                  {s.includePan ? <Badge tone="warn">PAN</Badge> : null}
                  <span class="grow" />
                  {s.disabledAt ? (
                    <span title={s.disabledReason ?? ''}>
                      <Badge tone="bad">disabled</Badge>
                    </span>
                  ) : (
                    <Badge tone="ok">active</Badge>
                  )}
                </div>
                <div class="mono small muted sink-target">{s.target}</div>
                {s.disabledAt ? (
                  <div class="small sink-reason">
                    Disabled {ago(s.disabledAt)}
                    {s.disabledReason ? `: ${s.disabledReason}` : ''}
                  </div>
                ) : null}
                <div class="sink-stats">
                  <div>
                    <span>{fmtNum(s.counts.pending)}</span>pending
                  </div>
                  <div class={s.counts.failed ? 'warn' : ''}>
                    <span>{fmtNum(s.counts.failed)}</span>retrying
                  </div>
                  <div class={s.counts.dead ? 'bad' : ''}>
                    <span>
                      {s.counts.dead ? (
                        <a href={href('deliveries', { status: 'dead', sink: s.name })}>
                          {fmtNum(s.counts.dead)}
                        </a>
                      ) : (
                        0
                      )}
                    </span>
                    dead
                  </div>
                  <div>
                    <span>{fmtNum(s.counts.delivered)}</span>delivered 24 h
                  </div>
                </div>
                <div class="small muted">
                  Oldest open: {s.oldestOpenAt ? ago(s.oldestOpenAt) : 'none'}
                </div>
                <div class="sink-actions">
                  <input
                    type="datetime-local"
                    class="input-small"
                    aria-label={`Replay ${s.name} since`}
                    value={since[s.name] ?? ''}
                    onInput={(e) =>
                      setSince({ ...since, [s.name]: (e.target as HTMLInputElement).value })
                    }
                    disabled={!analyst}
                  />
                  <button
                    type="button"
                    class="btn btn-small"
                    disabled={!analyst || busy}
                    title="Deliver again every accepted notification since that time (same event ids)"
                    onClick={() => replay(s.name)}
                  >
                    Replay
                  </button>
                  <span class="grow" />
                  {s.counts.dead ? (
                    <button
                      type="button"
                      class="btn btn-small"
                      disabled={!analyst || busy}
                      onClick={() => retryDead(s.name)}
                    >
                      Retry dead
                    </button>
                  ) : null}
                  <button
                    type="button"
                    class={`btn btn-small ${s.disabledAt ? '' : 'btn-danger'}`}
                    disabled={!admin || busy}
                    title={admin ? '' : 'Needs the admin role'}
                    onClick={() => toggle(s)}
                  >
                    {s.disabledAt ? 'Enable' : 'Disable'}
                  </button>
                </div>
              </div>
            ))}
          </div>
        ) : (
          <Empty>No sinks configured (see "sinks" in the configuration).</Empty>
        )}
      </Panel>
      <Panel
        title={status === 'dead' ? 'Dead-letter queue' : 'Deliveries'}
        actions={
          <div class="filters">
            <select
              aria-label="Status"
              value={status}
              onChange={(e) =>
                (location.hash = href('deliveries', {
                  status: (e.target as HTMLSelectElement).value,
                  sink,
                }))
              }
            >
              <Options labels={DELIVERY_STATUS_LABELS} />
              <option value="all">All</option>
            </select>
            <select
              aria-label="Sink"
              value={sink}
              onChange={(e) =>
                (location.hash = href('deliveries', {
                  status,
                  sink: (e.target as HTMLSelectElement).value,
                }))
              }
            >
              <option value="">All sinks</option>
              {(sinks.data?.items ?? []).map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
        }
      >
        {items.length ? (
          <table class="table" id="deliveries-table">
            <thead>
              <tr>
                <th>Queued</th>
                <th>Sink</th>
                <th>Status</th>
                <th class="num">Attempts</th>
                <th>Last error</th>
                <th>Next / done</th>
                <th>Notification</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id} data-id={d.id}>
                  <td class="nowrap">{fmtTime(d.createdAt)}</td>
                  <td>
                    {d.sink}
                    {d.origin === 'replay' ? <span class="muted small"> (replay)</span> : null}
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                    {d.inFlight ? <span class="muted small"> in flight</span> : null}
                  </td>
                  <td class="num">{d.attempts}</td>
                  <td>{d.lastError ? <code>{d.lastError}</code> : ''}</td>
                  <td class="nowrap muted">
                    {d.deliveredAt
                      ? fmtTime(d.deliveredAt)
                      : d.nextAttemptAt
                        ? fmtTime(d.nextAttemptAt)
                        : '—'}
                  </td>
                  <td>
                    <a class="link mono small" href={href(`notifications/${d.notificationId}`)}>
                      {d.notificationId.slice(0, 13)}…
                    </a>
                  </td>
                  <td class="actions">
                    {d.status === 'dead' || d.status === 'failed' ? (
                      <button
                        type="button"
                        class="btn btn-small"
                        disabled={!analyst || busy}
                        onClick={() => retry(d.id)}
                      >
                        Retry
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : list.loading ? (
          <div class="loading">Loading…</div>
        ) : (
          <Empty>{status === 'dead' ? 'No dead deliveries.' : 'No deliveries match.'}</Empty>
        )}
      </Panel>
    </>
  );
}
