import { useState } from 'preact/hooks';
import { api, type Me } from '../api';
import {
  Badge,
  ErrorBanner,
  Field,
  Notice,
  Options,
  PageHeader,
  Panel,
  RiskBadge,
  useLoad,
} from '../components';
import { fmtTime, RISK_REASONS } from '../format';
import { DISPOSITION_LABELS } from '../labels';
import { href } from '../router';
import type { CaseDetail as Detail } from '../types';
import { LevelBadge, STATUS_TONE, worksCases } from './cases';

const NOTE_LABEL: Record<string, string> = {
  opened: 'Case opened',
  attempt: 'Attempt joined',
  assigned: 'Assigned',
  note: 'Note',
  answer: 'Cardholder answered',
  reopened: 'Reopened',
  closed: 'Closed',
};

function noteText(n: Detail['notes'][number]): string {
  const d = n.detail ?? {};
  if (n.kind === 'assigned') return d.assignee ? `to ${String(d.assignee)}` : 'unassigned';
  if (n.kind === 'answer') return String(d.answer ?? '').replace('_', ' ');
  if (n.kind === 'closed') return String(d.disposition ?? '').replace('_', ' ');
  if (n.kind === 'opened')
    return `by ${String(d.by ?? '').replace('_', ' ')}, ${String(d.level ?? '')}`;
  if (n.kind === 'attempt') return String(d.level ?? '');
  return '';
}

/** One case: attempts with reasons, the alert and its answer, notes, the disposition. */
export function CaseDetail({ id, me }: { id: string; me: Me }) {
  const c = useLoad(() => api<Detail>('GET', `/api/cases/${encodeURIComponent(id)}`), [id]);
  const [note, setNote] = useState('');
  const [disposition, setDisposition] = useState('');
  const [closing, setClosing] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ tone: 'ok' | 'error'; text: string }>();
  const canAct = worksCases(me);

  const act = async (path: string, body: unknown, done: string) => {
    setBusy(true);
    setResult(undefined);
    try {
      await api('POST', `/api/cases/${encodeURIComponent(id)}/${path}`, body);
      setResult({ tone: 'ok', text: done });
      c.reload();
      return true;
    } catch (e) {
      setResult({ tone: 'error', text: e instanceof Error ? e.message : String(e) });
      return false;
    } finally {
      setBusy(false);
    }
  };

  const d = c.data;
  const open = d !== undefined && d.status !== 'closed';
  return (
    <>
      <PageHeader
        title="Case"
        subtitle={
          <a class="link" href={href('cases')}>
            ← Back to cases
          </a>
        }
        actions={
          open ? (
            d.assignee === me.name ? (
              <button
                type="button"
                class="btn"
                id="unassign"
                disabled={!canAct || busy}
                onClick={() => act('assign', { assignee: null }, 'Unassigned.')}
              >
                Unassign
              </button>
            ) : (
              <button
                type="button"
                class="btn btn-primary"
                id="assign-me"
                disabled={!canAct || busy}
                title={canAct ? 'Take this case' : 'Needs the analyst role'}
                onClick={() => act('assign', { assignee: me.name }, 'Assigned to you.')}
              >
                Assign to me
              </button>
            )
          ) : null
        }
      />
      <ErrorBanner error={c.error} />
      {result ? <Notice tone={result.tone}>{result.text}</Notice> : null}
      {d ? (
        <>
          <div class="grid-2">
            <Panel title="Case">
              <dl class="fields" id="case-fields" data-case-id={d.id}>
                <Field label="Status">
                  <Badge tone={STATUS_TONE[d.status]}>{d.status.replace('_', ' ')}</Badge>{' '}
                  {d.overdue ? <Badge tone="bad">overdue</Badge> : null}
                </Field>
                <Field label="Level">
                  <LevelBadge level={d.level} />
                </Field>
                <Field label="Card">
                  <span class="mono">{d.panLast4 ? `•••• ${d.panLast4}` : '—'}</span>
                  {d.cardFingerprint ? (
                    <div>
                      <a
                        class="link small"
                        href={href('notifications', { fingerprint: d.cardFingerprint })}
                      >
                        All attempts on this card →
                      </a>
                    </div>
                  ) : null}
                </Field>
                <Field label="Opened">
                  {fmtTime(d.openedAt)}{' '}
                  <span class="muted small">by {d.openedBy.replace('_', ' ')}</span>
                </Field>
                <Field label="Due">{fmtTime(d.dueAt)}</Field>
                <Field label="Cardholder">
                  {d.escalatedAt ? (
                    <Badge tone="bad">not recognised</Badge>
                  ) : (
                    <span class="muted">no “not me”</span>
                  )}
                </Field>
                <Field label="Assignee">{d.assignee ?? '—'}</Field>
                <Field label="Disposition">
                  <span id="disposition">
                    {d.disposition ? d.disposition.replace('_', ' ') : '—'}
                  </span>
                  {d.closedBy ? (
                    <span class="muted small">
                      {' '}
                      by {d.closedBy}, {fmtTime(d.closedAt)}
                    </span>
                  ) : null}
                </Field>
              </dl>
            </Panel>
            <Panel title="Work the case">
              {open ? (
                <form
                  class="case-form"
                  id="close-form"
                  onSubmit={async (e) => {
                    e.preventDefault();
                    if (await act('disposition', { disposition, note: closing }, 'Case closed.'))
                      setClosing('');
                  }}
                >
                  <label>
                    Disposition
                    <select
                      name="disposition"
                      value={disposition}
                      onChange={(e) => setDisposition((e.target as HTMLSelectElement).value)}
                      required
                    >
                      <option value="">Choose…</option>
                      <Options labels={DISPOSITION_LABELS} />
                    </select>
                  </label>
                  <label>
                    What was found
                    <textarea
                      name="closing-note"
                      rows={3}
                      value={closing}
                      onInput={(e) => setClosing((e.target as HTMLTextAreaElement).value)}
                      required
                    />
                  </label>
                  <button
                    type="submit"
                    class="btn btn-primary"
                    disabled={!canAct || busy || !disposition || !closing.trim()}
                  >
                    Close the case
                  </button>
                </form>
              ) : (
                <p class="muted">Closed. Notes can still be added.</p>
              )}
            </Panel>
          </div>
          <Panel title={`Attempts (${d.attempts.length})`}>
            <table class="table" id="case-attempts">
              <thead>
                <tr>
                  <th>Received</th>
                  <th>Card</th>
                  <th>Risk</th>
                  <th>Reasons</th>
                  <th>Alert</th>
                  <th>Answer</th>
                </tr>
              </thead>
              <tbody>
                {d.attempts.map((a) => (
                  <tr key={a.notificationId}>
                    <td class="nowrap">
                      <a class="link" href={href(`notifications/${a.notificationId}`)}>
                        {fmtTime(a.receivedAt)}
                      </a>
                    </td>
                    <td class="mono">{a.maskedPan ?? '—'}</td>
                    <td>
                      <RiskBadge risk={a.risk} />
                    </td>
                    <td>
                      {a.risk?.reasons.length ? (
                        a.risk.reasons.map((r) => (
                          <div key={r.code} title={RISK_REASONS[r.code] ?? ''}>
                            <code>{r.code}</code> <span class="muted small">{r.detail}</span>
                          </div>
                        ))
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                    <td>
                      {a.alert ? (
                        <span title={a.alert.sentAt ? `sent ${fmtTime(a.alert.sentAt)}` : ''}>
                          {a.alert.status}
                        </span>
                      ) : (
                        <span class="muted">none</span>
                      )}
                    </td>
                    <td class="answer">
                      {a.alert?.answer ? (
                        <Badge tone={a.alert.answer === 'not_recognised' ? 'bad' : 'ok'}>
                          {a.alert.answer.replace('_', ' ')}
                        </Badge>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Panel>
          <Panel title="Notes">
            <ul class="timeline" id="case-notes">
              {d.notes.map((n) => (
                <li
                  key={n.seq}
                  class={
                    n.kind === 'answer' || n.kind === 'closed'
                      ? 'warn'
                      : n.kind === 'note'
                        ? 'ok'
                        : ''
                  }
                >
                  <div>
                    <b>{NOTE_LABEL[n.kind] ?? n.kind}</b>{' '}
                    <span class="muted small">{noteText(n)}</span>
                  </div>
                  {n.text ? <div class="note-text">{n.text}</div> : null}
                  <div class="small muted">
                    {n.author} · {fmtTime(n.at)}
                  </div>
                </li>
              ))}
            </ul>
            <form
              class="case-form"
              id="note-form"
              onSubmit={async (e) => {
                e.preventDefault();
                if (await act('notes', { text: note }, 'Note added.')) setNote('');
              }}
            >
              <label>
                Add a note
                <textarea
                  name="note"
                  rows={2}
                  value={note}
                  onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)}
                />
              </label>
              <button type="submit" class="btn" disabled={!canAct || busy || !note.trim()}>
                Add note
              </button>
            </form>
          </Panel>
        </>
      ) : null}
    </>
  );
}
