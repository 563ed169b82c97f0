import { useState } from 'preact/hooks';
import { api, type Me } from '../api';
import { Badge, ErrorBanner, Notice, Options, PageHeader, Panel, useLoad } from '../components';
import { fmtTime } from '../format';
import { CONSOLE_ROLE_LABELS } from '../labels';
import type { OperatorItem } from '../types';

export function Operators({ me }: { me: Me }) {
  const list = useLoad(() => api<{ items: OperatorItem[] }>('GET', '/api/operators'), []);
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [issued, setIssued] = useState<{ name: string; password: string; apiToken: string }>();
  const [error, setError] = useState<unknown>();

  const add = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      setIssued(await api('POST', '/api/operators', { name, role }));
      setName('');
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const toggle = async (o: OperatorItem) => {
    setError(undefined);
    try {
      await api(
        'POST',
        `/api/operators/${encodeURIComponent(o.name)}/${o.disabledAt ? 'enable' : 'disable'}`,
      );
      list.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <>
      <PageHeader
        title="Operators"
        subtitle="Viewer reads; analyst also reprocesses, retries and replays; admin also manages sinks and operators."
      />
      <ErrorBanner error={error ?? list.error} />
      {issued ? (
        <Notice tone="ok">
          Operator <b>{issued.name}</b> created. Shown once — hand these over securely: password{' '}
          <code>{issued.password}</code>, API token <code class="break">{issued.apiToken}</code>
        </Notice>
      ) : null}
      <Panel title="Add an operator">
        <form class="filters" onSubmit={add} autocomplete="off">
          <label>
            Name
            <input
              value={name}
              required
              pattern="[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}"
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            Role
            <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
              <Options labels={CONSOLE_ROLE_LABELS} />
            </select>
          </label>
          <div class="filter-actions">
            <button class="btn btn-primary" type="submit">
              Add
            </button>
          </div>
        </form>
      </Panel>
      <Panel>
        <table class="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Created</th>
              <th>Last sign-in</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(list.data?.items ?? []).map((o) => (
              <tr key={o.name}>
                <td>{o.name}</td>
                <td>
                  <Badge
                    tone={o.role === 'admin' ? 'bad' : o.role === 'analyst' ? 'info' : 'muted'}
                  >
                    {o.role}
                  </Badge>
                </td>
                <td class="nowrap">{fmtTime(o.createdAt)}</td>
                <td class="nowrap">{fmtTime(o.lastLoginAt)}</td>
                <td>
                  {o.disabledAt ? (
                    <Badge tone="warn">disabled</Badge>
                  ) : (
                    <Badge tone="ok">active</Badge>
                  )}
                </td>
                <td class="actions">
                  {o.name !== me.name ? (
                    <button type="button" class="btn btn-small" onClick={() => toggle(o)}>
                      {o.disabledAt ? 'Enable' : 'Disable'}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
    </>
  );
}
