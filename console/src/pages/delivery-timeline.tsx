import { useState } from 'preact/hooks';
import { api, type Me } from '../api';
import { Empty, ErrorBanner, Panel, StatusBadge, useLoad } from '../components';
import { fmtTime } from '../format';
import type { DeliveryItem, Page } from '../types';

/** Per sink: queued → attempts (last error) → delivered, next attempt or dead letter. */
export function DeliveryTimeline({ notificationId, me }: { notificationId: string; me: Me }) {
  const list = useLoad(
    () =>
      api<Page<DeliveryItem>>('GET', `/api/deliveries?notificationId=${notificationId}&limit=50`),
    [notificationId],
  );
  const [error, setError] = useState<unknown>();
  const retry = async (id: string) => {
    setError(undefined);
    try {
      await api('POST', `/api/deliveries/${id}/retry`);
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  const items = [...(list.data?.items ?? [])].reverse();
  return (
    <Panel title="Delivery timeline">
      <ErrorBanner error={error ?? list.error} />
      {items.length ? (
        <div class="timelines" id="delivery-timeline">
          {items.map((d) => (
            <div key={d.id} class="timeline-sink">
              <div class="timeline-head">
                <b>{d.sink}</b>{' '}
                {d.origin === 'replay' ? <span class="muted small">replay</span> : null}{' '}
                <StatusBadge status={d.status} />
                {d.status === 'dead' || d.status === 'failed' ? (
                  <button
                    type="button"
                    class="btn btn-small"
                    disabled={me.role === 'viewer'}
                    onClick={() => retry(d.id)}
                  >
                    Retry
                  </button>
                ) : null}
              </div>
              <ol class="timeline">
                <li class="ok">
                  Queued <span class="muted">{fmtTime(d.createdAt)}</span>
                </li>
                {d.attempts > 0 ? (
                  <li class={d.lastError ? 'warn' : 'ok'}>
                    {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
                    {d.lastError ? (
                      <>
                        {' '}
                        · last error <code>{d.lastError}</code>
                        {d.lastStatus ? ` (HTTP ${d.lastStatus})` : ''}
                      </>
                    ) : null}
                  </li>
                ) : null}
                {d.status === 'delivered' ? (
                  <li class="ok">
                    Delivered <span class="muted">{fmtTime(d.deliveredAt)}</span>
                  </li>
                ) : null}
                {d.status === 'pending' || d.status === 'failed' ? (
                  <li>
                    Next attempt <span class="muted">{fmtTime(d.nextAttemptAt)}</span>
                  </li>
                ) : null}
                {d.status === 'dead' ? (
                  <li class="bad">
                    Dead-lettered <span class="muted">{fmtTime(d.updatedAt)}</span>
                  </li>
                ) : null}
              </ol>
            </div>
          ))}
        </div>
      ) : list.loading ? null : (
        <Empty>No deliveries: no sink is configured, or the notification was not accepted.</Empty>
      )}
    </Panel>
  );
}
