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
  useLoad,
} from '../components';
import { ago, fmtTime, until } from '../format';
import { CASE_STATUS_LABELS, LEVEL_LABELS } from '../labels';
import { href, type Route } from '../router';
import type { CaseItem, CaseStatus, Page } from '../types';

const FILTERS = ['status', 'level', 'overdue', 'assignee'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

export const STATUS_TONE: Record<CaseStatus, 'warn' | 'info' | 'muted'> = {
  open: 'warn',
  in_review: 'info',
  closed: 'muted',
};

export function LevelBadge({ level }: { level: string }) {
  return (
    <Badge tone={level === 'high' ? 'bad' : level === 'medium' ? 'warn' : 'ok'}>{level}</Badge>
  );
}

/** Can work cases: analysts and admins (the server enforces the same). */
export const worksCases = (me: Me) => me.role === 'analyst' || me.role === 'admin';

/** The fraud case queue: overdue first, then escalated by the cardholder, then oldest. */
export function Cases({ me, route }: { me: Me; route: Route }) {
  const filters: Filters = Object.fromEntries(
    FILTERS.map((k) => [k, route.params.get(k) ?? undefined]),
  );
  // Without a status filter the queue shows the cases still to work.
  const status = filters.status ?? 'active';
  const key = JSON.stringify(filters);
  const list = useLoad(
    () =>
      api<Page<CaseItem>>(
        'GET',
        `/api/cases${query({
          status: status === 'active' || status === 'all' ? undefined : status,
          level: filters.level,
          overdue: filters.overdue,
          assignee: filters.assignee,
          limit: 200,
        })}`,
      ),
    [key],
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const canAct = worksCases(me);
  const set = (k: keyof Filters, v: string | undefined) => {
    location.hash = href('cases', { ...filters, [k]: v || undefined });
  };

  const assignToMe = async (id: string) => {
    setBusy(id);
    setError(undefined);
    try {
      await api('POST', `/api/cases/${id}/assign`, { assignee: me.name });
      list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const items = (list.data?.items ?? []).filter(
    (c) => status !== 'active' || c.status !== 'closed',
  );
  return (
    <>
      <PageHeader
        title="Cases"
        subtitle="Fraud cases, one per card: opened by a high-risk attempt or a cardholder's “not me”. Overdue first."
      />
      {!canAct ? (
        <Notice tone="info">
          You have read-only access. Working cases needs the analyst role.
        </Notice>
      ) : null}
      <ErrorBanner error={list.error ?? error} />
      <Panel>
        <div class="filters" id="case-filters">
          <label>
            Status
            <select
              name="status"
              value={status}
              onChange={(e) => set('status', (e.target as HTMLSelectElement).value)}
            >
              <option value="active">Open and in review</option>
              <Options labels={CASE_STATUS_LABELS} />
              <option value="all">All</option>
            </select>
          </label>
          <label>
            Level
            <select
              name="level"
              value={filters.level ?? ''}
              onChange={(e) => set('level', (e.target as HTMLSelectElement).value)}
            >
              <option value="">Any</option>
              <Options labels={LEVEL_LABELS} />
            </select>
          </label>
          <label>
            SLA
            <select
              name="overdue"
              value={filters.overdue ?? ''}
              onChange={(e) => set('overdue', (e.target as HTMLSelectElement).value)}
            >
              <option value="">Any</option>
              <option value="true">Overdue</option>
              <option value="false">Within SLA</option>
            </select>
          </label>
          <div class="filter-actions">
            <button
              type="button"
              class="btn"
              id="mine"
              onClick={() => set('assignee', filters.assignee ? undefined : me.name)}
            >
              {filters.assignee ? 'Everyone’s' : 'Assigned to me'}
            </button>
          </div>
        </div>
        {items.length ? (
          <table class="table" id="cases-table">
            <thead>
              <tr>
                <th>Opened</th>
                <th>SLA</th>
                <th>Level</th>
                <th>Card</th>
                <th class="num">Attempts</th>
                <th>Status</th>
                <th>Assignee</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr
                  key={c.id}
                  data-id={c.id}
                  class={c.overdue ? 'row-bad' : c.escalatedAt ? 'row-warn' : ''}
                >
                  <td class="nowrap">
                    <a class="link" href={href(`cases/${c.id}`)} title={fmtTime(c.openedAt)}>
                      {ago(c.openedAt)}
                    </a>
                    {c.escalatedAt ? (
                      <div class="small muted">cardholder: not me</div>
                    ) : c.openedBy === 'cardholder_answer' ? (
                      <div class="small muted">opened by the cardholder</div>
                    ) : null}
                  </td>
                  <td>
                    {c.status === 'closed' ? (
                      '—'
                    ) : c.overdue ? (
                      <Badge tone="bad">overdue</Badge>
                    ) : (
                      <span class="small muted">due {until(c.dueAt)}</span>
                    )}
                  </td>
                  <td>
                    <LevelBadge level={c.level} />
                  </td>
                  <td class="mono">{c.panLast4 ? `•••• ${c.panLast4}` : '—'}</td>
                  <td class="num">{c.attemptCount}</td>
                  <td>
                    <Badge tone={STATUS_TONE[c.status]}>{c.status.replace('_', ' ')}</Badge>
                    {c.disposition ? (
                      <div class="small muted">{c.disposition.replace('_', ' ')}</div>
                    ) : null}
                  </td>
                  <td>{c.assignee ?? <span class="muted">—</span>}</td>
                  <td class="actions">
                    {c.status !== 'closed' && c.assignee !== me.name ? (
                      <button
                        type="button"
                        class="btn btn-small assign-me"
                        disabled={!canAct || busy !== null}
                        title={canAct ? 'Take this case' : 'Needs the analyst role'}
                        onClick={() => assignToMe(c.id)}
                      >
                        {busy === c.id ? 'Assigning…' : 'Assign to me'}
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
          <Empty>No case matches.</Empty>
        )}
      </Panel>
    </>
  );
}
