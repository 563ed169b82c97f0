import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

export function Badge({
  tone,
  children,
}: {
  tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted';
  children: ComponentChildren;
}) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

/** One `<option>` per value of a list, named and ordered by `labels` (see labels.ts). */
export function Options<T extends string>({ labels }: { labels: Record<T, string> }) {
  return (
    <>
      {(Object.entries(labels) as [T, string][]).map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const tone =
    status === 'accepted' || status === 'delivered' || status === 'ok'
      ? 'ok'
      : status === 'quarantined' || status === 'pending' || status === 'expiring'
        ? 'warn'
        : status === 'dead' || status === 'failed' || status === 'expired'
          ? 'bad'
          : 'muted';
  return <Badge tone={tone}>{status}</Badge>;
}

export function PageHeader({
  title,
  subtitle,
  actions,
}: {
  title: string;
  subtitle?: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <header class="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p class="muted">{subtitle}</p> : null}
      </div>
      {actions ? <div class="page-actions">{actions}</div> : null}
    </header>
  );
}

export function Panel({
  title,
  children,
  actions,
  class: cls,
}: {
  title?: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  class?: string;
}) {
  return (
    <section class={`panel ${cls ?? ''}`}>
      {title ? (
        <div class="panel-head">
          <h2>{title}</h2>
          {actions}
        </div>
      ) : null}
      <div class="panel-body">{children}</div>
    </section>
  );
}

export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  const msg =
    error instanceof ApiError
      ? `${error.message} (${error.code})`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <div class="alert alert-error" role="alert">
      {msg}
    </div>
  );
}

export function Notice({
  tone,
  children,
}: {
  tone: 'ok' | 'error' | 'info';
  children: ComponentChildren;
}) {
  return (
    <div class={`alert alert-${tone}`} role="status">
      {children}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/** Loads on mount and when `deps` change; `reload` re-runs. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function Kpi({
  label,
  value,
  tone,
  hint,
}: {
  label: string;
  value: ComponentChildren;
  tone?: 'ok' | 'warn' | 'bad';
  hint?: string;
}) {
  return (
    <div class={`kpi ${tone ? `kpi-${tone}` : ''}`}>
      <div class="kpi-label">{label}</div>
      <div class="kpi-value">{value}</div>
      {hint ? <div class="kpi-hint">{hint}</div> : null}
    </div>
  );
}

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

export function RiskBadge({ risk }: { risk: { level: string; score: number } | null }) {
  if (!risk) return <span class="muted small">—</span>;
  const tone = risk.level === 'high' ? 'bad' : risk.level === 'medium' ? 'warn' : 'ok';
  return (
    <span class={`risk risk-${risk.level}`} title={`score ${risk.score} of 100`}>
      <Badge tone={tone}>{risk.level}</Badge> <span class="risk-score">{risk.score}</span>
    </span>
  );
}
