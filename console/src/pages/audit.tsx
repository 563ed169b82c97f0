import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api';
import { Badge, Empty, ErrorBanner, PageHeader, Panel } from '../components';
import { fmtTime } from '../format';
import type { AuditItem, Page } from '../types';

export function Audit() {
  const [items, setItems] = useState<AuditItem[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [action, setAction] = useState('');
  const load = (cursor?: string) =>
    api<Page<AuditItem>>('GET', `/api/audit${query({ cursor, action, limit: 100 })}`).then((p) => {
      setItems((old) => (cursor ? [...old, ...p.items] : p.items));
      setNext(p.next);
    }, setError);
  useEffect(() => void load(), [action]);
  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every operator action: who, what, when and from where. Append-only: it cannot be edited or deleted."
      />
      <ErrorBanner error={error} />
      <Panel>
        <div class="filters">
          <label>
            Action
            <select
              value={action}
              onChange={(e) => setAction((e.target as HTMLSelectElement).value)}
            >
              <option value="">All</option>
              <option value="session.">Sign-ins and sign-outs</option>
              <option value="notification.">Notifications</option>
              <option value="delivery.">Deliveries</option>
              <option value="sink.">Sinks</option>
              <option value="operator.">Operators</option>
              <option value="request.">Refused requests</option>
            </select>
          </label>
        </div>
        {items.length ? (
          <table class="table" id="audit-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Operator</th>
                <th>Action</th>
                <th>Target</th>
                <th>Outcome</th>
                <th>From</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.seq}>
                  <td class="nowrap">{fmtTime(e.at)}</td>
                  <td>
                    {e.actor}{' '}
                    {e.actorRole ? <span class="muted small">({e.actorRole})</span> : null}
                  </td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td class="mono small">{e.target ?? ''}</td>
                  <td>
                    <Badge
                      tone={e.outcome === 'ok' ? 'ok' : e.outcome === 'denied' ? 'warn' : 'bad'}
                    >
                      {e.outcome}
                    </Badge>
                  </td>
                  <td class="mono small">{e.address ?? ''}</td>
                  <td class="small muted">
                    {e.detail
                      ? Object.entries(e.detail)
                          .filter(([, v]) => v !== null && v !== undefined)
                          .map(([k, v]) => `${k}: ${String(v)}`)
                          .join(' · ')
                      : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <Empty>No entries.</Empty>
        )}
        {next ? (
          <div class="pager">
            <button type="button" class="btn" onClick={() => load(next)}>
              Load older
            </button>
          </div>
        ) : null}
      </Panel>
    </>
  );
}
