import { useState } from 'preact/hooks';
import { api, type Me } from '../api';
import {
  ErrorBanner,
  Field,
  Notice,
  PageHeader,
  Panel,
  RiskBadge,
  StatusBadge,
  useLoad,
} from '../components';
import { enrollerName, fmtTime, maskedCard, REASONS, RISK_REASONS } from '../format';
import { href } from '../router';
import type { NotificationDetail as Detail } from '../types';
import { DeliveryTimeline } from './delivery-timeline';

export function NotificationDetail({ id, me }: { id: string; me: Me }) {
  const {
    data: n,
    error,
    reload,
  } = useLoad(() => api<Detail>('GET', `/api/notifications/${encodeURIComponent(id)}`), [id]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ tone: 'ok' | 'error'; text: string }>();
  const canAct = me.role !== 'viewer';

  const reprocess = async () => {
    setBusy(true);
    setResult(undefined);
    try {
      const r = await api<{ status: string; reason: string | null }>(
        'POST',
        `/api/notifications/${encodeURIComponent(id)}/reprocess`,
      );
      setResult(
        r.status === 'accepted'
          ? { tone: 'ok', text: 'Reprocessed: the notification is now accepted.' }
          : { tone: 'error', text: `Still quarantined: ${r.reason ?? 'unknown reason'}.` },
      );
      reload();
    } catch (e) {
      setResult({ tone: 'error', text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title="Notification"
        subtitle={
          <a class="link" href={href('notifications')}>
            ← Back to notifications
          </a>
        }
        actions={
          n?.status === 'quarantined' ? (
            <button
              type="button"
              class="btn btn-primary"
              id="reprocess"
              disabled={!canAct || busy}
              title={canAct ? 'Verify, decrypt and validate again' : 'Needs the analyst role'}
              onClick={reprocess}
            >
              {busy ? 'Reprocessing…' : 'Reprocess'}
            </button>
          ) : null
        }
      />
      <ErrorBanner error={error} />
      {result ? <Notice tone={result.tone}>{result.text}</Notice> : null}
      {n ? (
        <div class="grid-2">
          <Panel title="Card and enroller">
            <div class="card-visual">
              <div class="card-number mono" id="masked-card">
                {maskedCard(n.panBin, n.panLast4)}
              </div>
              <div class="card-meta">
                <span>BIN {n.panBin ?? '—'}</span>
                <span>
                  Luhn {n.panLuhnValid === null ? '—' : n.panLuhnValid ? 'valid' : 'INVALID'}
                </span>
                <span>TSP {n.tsp ?? '—'}</span>
              </div>
            </div>
            <dl class="fields">
              <Field label="Enroller">{enrollerName(n.enroller)}</Field>
              <Field label="Email">{n.enroller.contactEmail ?? '—'}</Field>
              <Field label="Phone">{n.enroller.phoneNumber ?? '—'}</Field>
              <Field label="Card fingerprint">
                <span class="mono small break">{n.panFingerprint ?? '—'}</span>
                {n.panFingerprint ? (
                  <div>
                    <a
                      class="link small"
                      href={href('notifications', { fingerprint: n.panFingerprint })}
                    >
                      All attempts on this card →
                    </a>
                  </div>
                ) : null}
              </Field>
            </dl>
          </Panel>
          <Panel title="Status">
            <dl class="fields">
              <Field label="Status">
                <StatusBadge status={n.status} />
              </Field>
              <Field label="Risk">
                <RiskBadge risk={n.risk} />
              </Field>
              {n.reason ? (
                <Field label="Quarantine reason">
                  <code>{n.reason}</code> <span class="muted">{REASONS[n.reason] ?? ''}</span>
                  {n.reasonFields?.length ? (
                    <div class="small muted">Fields: {n.reasonFields.join(', ')}</div>
                  ) : null}
                </Field>
              ) : null}
              <Field label="Received">{fmtTime(n.receivedAt)}</Field>
              <Field label="Last change">{fmtTime(n.updatedAt)}</Field>
              <Field label="Visa attempts">{n.visaAttempts}</Field>
              <Field label="Event type">
                <code>{n.eventType}</code>
              </Field>
              <Field label="Token requestor">
                <span class="mono">{n.tokenRequestorId}</span>
              </Field>
              <Field label="Signing key (JWS kid)">
                <span class="mono">{n.jwsKid ?? '—'}</span>
              </Field>
              <Field label="Encryption key (JWE kid)">
                <span class="mono">{n.jweKid ?? '—'}</span>
              </Field>
              <Field label="Notification id">
                <span class="mono small">{n.id}</span>
              </Field>
            </dl>
          </Panel>
        </div>
      ) : null}
      {n?.status === 'accepted' ? (
        <Panel title="Risk assessment" class="risk-panel">
          {n.risk ? (
            <div class="risk-body" id="risk-assessment">
              <div class={`risk-meter risk-${n.risk.level}`}>
                <div class="risk-meter-score">{n.risk.score}</div>
                <div class="risk-meter-label">
                  of 100 · <b>{n.risk.level}</b>
                </div>
                <div class="risk-bar">
                  <span class={`risk-fill-${n.risk.level}`} style={{ width: `${n.risk.score}%` }} />
                </div>
              </div>
              <div class="risk-reasons">
                {n.risk.reasons.length ? (
                  <ul>
                    {n.risk.reasons.map((r) => (
                      <li key={r.code}>
                        <code>{r.code}</code> {RISK_REASONS[r.code] ?? ''}{' '}
                        {r.detail ? <span class="muted small">({r.detail})</span> : null}
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p class="muted">No risk signal: the enroller matches the cardholder on file.</p>
                )}
                {n.risk.shadow.length ? (
                  <p class="small muted">
                    Shadow rules (not counted):{' '}
                    {n.risk.shadow.map((r) => `${r.code} +${r.points}`).join(', ')}
                  </p>
                ) : null}
                <p class="small muted">
                  Directory: {n.risk.directory} · assessed {fmtTime(n.risk.assessedAt)}
                </p>
              </div>
            </div>
          ) : (
            <p class="muted">Not assessed yet (the assessment runs after the answer to Visa).</p>
          )}
        </Panel>
      ) : null}
      {n?.status === 'accepted' ? <DeliveryTimeline notificationId={n.id} me={me} /> : null}
    </>
  );
}
