import { useState } from 'preact/hooks';
import { api, type Me } from '../api';
import { Empty, ErrorBanner, Notice, PageHeader, Panel, useLoad } from '../components';
import { fmtTime, REASONS } from '../format';
import { href } from '../router';
import type { NotificationItem, Page } from '../types';

export function Quarantine({ me }: { me: Me }) {
  const list = useLoad(
    () => api<Page<NotificationItem>>('GET', '/api/notifications?status=quarantined&limit=200'),
    [],
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ tone: 'ok' | 'error'; text: string }>();
  const canAct = me.role !== 'viewer';

  const reprocess = async (ids: string[]) => {
    setNotice(undefined);
    let accepted = 0;
    let still = 0;
    for (const id of ids) {
      setBusy(id);
      try {
        const r = await api<{ status: string }>('POST', `/api/notifications/${id}/reprocess`);
        if (r.status === 'accepted') accepted++;
        else still++;
      } catch (e) {
        setNotice({ tone: 'error', text: e instanceof Error ? e.message : String(e) });
        break;
      }
    }
    setBusy(null);
    setNotice(
      (n) =>
        n ?? {
          tone: accepted ? 'ok' : 'error',
          text: `${accepted} accepted, ${still} still quarantined.`,
        },
    );
    list.reload();
  };

  const items = list.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="Quarantine"
        subtitle="Signed by Visa but not usable yet (e.g. encrypted to a key not installed). Fix the cause, then reprocess."
        actions={
          items.length && canAct ? (
            <button
              type="button"
              class="btn"
              disabled={busy !== null}
              onClick={() => reprocess(items.map((n) => n.id))}
            >
              Reprocess all ({items.length})
            </button>
          ) : null
        }
      />
      {notice ? <Notice tone={notice.tone}>{notice.text}</Notice> : null}
      {!canAct ? (
        <Notice tone="info">
          You have read-only access (viewer). Reprocessing needs the analyst role.
        </Notice>
      ) : null}
      <ErrorBanner error={list.error} />
      <Panel>
        {items.length ? (
          <table class="table" id="quarantine-table">
            <thead>
              <tr>
                <th>Received</th>
                <th>Reason</th>
                <th>Detail</th>
                <th>Token requestor</th>
                <th>Visa attempts</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((n) => (
                <tr key={n.id} data-id={n.id}>
                  <td class="nowrap">
                    <a class="link" href={href(`notifications/${n.id}`)}>
                      {fmtTime(n.receivedAt)}
                    </a>
                  </td>
                  <td>
                    <code>{n.reason}</code>
                  </td>
                  <td class="muted">
                    {(n.reason && REASONS[n.reason]) ?? ''}
                    {n.reasonFields?.length ? ` (${n.reasonFields.join(', ')})` : ''}
                  </td>
                  <td class="mono">{n.tokenRequestorId}</td>
                  <td class="num">{n.visaAttempts}</td>
                  <td class="actions">
                    <button
                      type="button"
                      class="btn btn-small"
                      disabled={!canAct || busy !== null}
                      onClick={() => reprocess([n.id])}
                    >
                      {busy === n.id ? 'Reprocessing…' : 'Reprocess'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : list.loading ? (
          <div class="loading">Loading…</div>
        ) : (
          <Empty>The quarantine is empty.</Empty>
        )}
      </Panel>
    </>
  );
}
