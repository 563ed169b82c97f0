import { useEffect, useState } from 'preact/hooks';
import { api, type Me, query } from '../api';
import {
  Empty,
  ErrorBanner,
  Options,
  PageHeader,
  Panel,
  RiskBadge,
  StatusBadge,
} from '../components';
import { enrollerName, fmtTime, maskedCard } from '../format';
import { LEVEL_LABELS, NOTIFICATION_STATUS_LABELS } from '../labels';
import { href, type Route } from '../router';
import type { NotificationItem, Page } from '../types';

const FILTERS = [
  'status',
  'risk',
  'from',
  'to',
  'tokenRequestorId',
  'last4',
  'fingerprint',
] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

const toIso = (local: string | undefined) => (local ? new Date(local).toISOString() : undefined);

export function Notifications({ route, me }: { route: Route; me: Me }) {
  const severalIssuers = me.issuerChoices.length > 1;
  const filters: Filters = Object.fromEntries(
    FILTERS.map((k) => [k, route.params.get(k) ?? undefined]),
  );
  const [draft, setDraft] = useState<Filters>(filters);
  // The card number lives only in this component's memory: never in the URL, history or storage.
  const [pan, setPan] = useState('');
  const [panActive, setPanActive] = useState('');
  const [items, setItems] = useState<NotificationItem[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const key = JSON.stringify(filters);

  const fetchPage = (cursor?: string) => {
    const f = {
      status: filters.status,
      risk: filters.risk,
      from: toIso(filters.from),
      to: toIso(filters.to),
      tokenRequestorId: filters.tokenRequestorId,
      last4: filters.last4,
      fingerprint: filters.fingerprint,
      cursor,
      limit: 50,
    };
    if (panActive) {
      const body: Record<string, unknown> = { pan: panActive };
      for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '') body[k] = v;
      return api<Page<NotificationItem>>('POST', '/api/notifications/search', body);
    }
    return api<Page<NotificationItem>>('GET', `/api/notifications${query(f)}`);
  };
  const load = (cursor?: string) => {
    setLoading(true);
    setError(undefined);
    fetchPage(cursor).then(
      (p) => {
        setItems((old) => (cursor ? [...old, ...p.items] : p.items));
        setNext(p.next);
        setLoading(false);
      },
      (e: unknown) => {
        setError(e);
        setLoading(false);
      },
    );
  };
  useEffect(() => {
    setDraft(filters);
    load();
  }, [key, panActive]);

  const apply = (e: Event) => {
    e.preventDefault();
    setPanActive(pan.replace(/[^0-9]/g, ''));
    location.hash = href('notifications', draft);
  };
  const clear = () => {
    setPan('');
    setPanActive('');
    setDraft({});
    location.hash = href('notifications');
  };
  const set = (k: keyof Filters) => (e: Event) =>
    setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value || undefined });

  return (
    <>
      <PageHeader
        title="Notifications"
        subtitle="Every enrollment attempt Visa sent, newest first. Cards are shown as BIN and last four only."
      />
      <Panel>
        <form class="filters" onSubmit={apply} autocomplete="off">
          <label>
            Status
            <select name="status" value={draft.status ?? ''} onChange={set('status')}>
              <option value="">Any</option>
              <Options labels={NOTIFICATION_STATUS_LABELS} />
            </select>
          </label>
          <label>
            Risk
            <select name="risk" value={draft.risk ?? ''} onChange={set('risk')}>
              <option value="">Any</option>
              <Options labels={LEVEL_LABELS} />
            </select>
          </label>
          <label>
            From
            <input
              type="datetime-local"
              name="from"
              value={draft.from ?? ''}
              onChange={set('from')}
            />
          </label>
          <label>
            To
            <input type="datetime-local" name="to" value={draft.to ?? ''} onChange={set('to')} />
          </label>
          <label>
            Token requestor
            <input
              name="tokenRequestorId"
              inputMode="numeric"
              pattern="[0-9]{11}"
              placeholder="11 digits"
              value={draft.tokenRequestorId ?? ''}
              onInput={set('tokenRequestorId')}
            />
          </label>
          <label>
            Last 4
            <input
              name="last4"
              class="w-s"
              inputMode="numeric"
              pattern="[0-9]{4}"
              maxLength={4}
              placeholder="1234"
              value={draft.last4 ?? ''}
              onInput={set('last4')}
            />
          </label>
          <label>
            Card number
            <input
              name="pan"
              type="password"
              class="w-m"
              inputMode="numeric"
              autocomplete="off"
              placeholder="full number (not stored)"
              value={pan}
              onInput={(e) => setPan((e.target as HTMLInputElement).value)}
            />
          </label>
          <div class="filter-actions">
            <button class="btn btn-primary" type="submit">
              Apply
            </button>
            <button class="btn" type="button" onClick={clear}>
              Clear
            </button>
          </div>
        </form>
      </Panel>
      {filters.fingerprint && !panActive ? (
        <div class="alert alert-info">
          Showing attempts on one card (by fingerprint).{' '}
          <a class="link" href={href('notifications')}>
            Clear
          </a>
        </div>
      ) : null}
      {panActive ? (
        <div class="alert alert-info">
          Showing notifications for the card number you typed (matched by its fingerprint; the
          number is not kept).
        </div>
      ) : null}
      <ErrorBanner error={error} />
      <Panel>
        {items.length ? (
          <table class="table" id="notifications-table">
            <thead>
              <tr>
                <th>Received</th>
                {severalIssuers ? <th>Issuer</th> : null}
                <th>Status</th>
                <th>Risk</th>
                <th>Card</th>
                <th>Enroller</th>
                <th>Email</th>
                <th>Token requestor</th>
                <th>Event</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {items.map((n) => (
                <tr
                  key={n.id}
                  class="clickable"
                  data-id={n.id}
                  data-issuer={n.issuer}
                  onClick={() => (location.hash = href(`notifications/${n.id}`))}
                >
                  <td class="nowrap">{fmtTime(n.receivedAt)}</td>
                  {severalIssuers ? <td class="mono">{n.issuer}</td> : null}
                  <td>
                    <StatusBadge status={n.status} />
                  </td>
                  <td class="nowrap">
                    <RiskBadge risk={n.risk} />
                  </td>
                  <td class="mono nowrap">{maskedCard(n.panBin, n.panLast4)}</td>
                  <td>{enrollerName(n.enroller)}</td>
                  <td class="muted">{n.enroller.contactEmail ?? '—'}</td>
                  <td class="mono">{n.tokenRequestorId}</td>
                  <td class="muted small">{n.eventType}</td>
                  <td>{n.reason ? <code>{n.reason}</code> : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : loading ? (
          <div class="loading">Loading…</div>
        ) : (
          <Empty>No notifications match these filters.</Empty>
        )}
        {next ? (
          <div class="pager">
            <button type="button" class="btn" disabled={loading} onClick={() => load(next)}>
              Load older
            </button>
          </div>
        ) : null}
      </Panel>
    </>
  );
}
