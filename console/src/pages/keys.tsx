import { api } from '../api';
import { Badge, ErrorBanner, PageHeader, Panel, StatusBadge, useLoad } from '../components';
import { fmtTime } from '../format';
import type { KeyItem } from '../types';

const USE: Record<string, string> = {
  decryption: 'Decrypts Visa payloads (JWE)',
  verification: "Verifies Visa's signature (JWS)",
  data: 'Encrypts card data at rest',
  fingerprint: 'Card fingerprint HMAC',
  'tls-server': 'TLS server certificate (Visa listener)',
  'tls-client-ca': "CA of Visa's client certificates",
  'admin-tls': 'TLS certificate (admin listener)',
};

const LOCATION: Record<KeyItem['location'], string> = {
  file: 'file',
  env: 'variable',
  token: 'HSM',
  wrapped: 'wrapped by HSM',
};

export function Keys() {
  const { data, error } = useLoad(
    () => api<{ warningDays: number; items: KeyItem[] }>('GET', '/api/keys'),
    [],
  );
  return (
    <>
      <PageHeader
        title="Keys and certificates"
        subtitle={
          data
            ? `Flagged ${data.warningDays} days before expiry. Renew a certificate, and give Visa the new one, before it expires.`
            : undefined
        }
      />
      <ErrorBanner error={error} />
      <Panel>
        <table class="table" id="keys-table">
          <thead>
            <tr>
              <th>Key</th>
              <th>Use</th>
              <th>Kept in</th>
              <th>Subject</th>
              <th>Expires</th>
              <th class="num">Days left</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {(data?.items ?? []).map((k) => (
              <tr
                key={`${k.use}:${k.id}`}
                class={
                  k.status === 'expired' ? 'row-bad' : k.status === 'expiring' ? 'row-warn' : ''
                }
              >
                <td class="mono nowrap">{k.id}</td>
                <td>{USE[k.use] ?? k.use}</td>
                <td class="small">
                  <Badge tone={k.location === 'token' || k.location === 'wrapped' ? 'ok' : 'muted'}>
                    {LOCATION[k.location]}
                  </Badge>{' '}
                  <span class="muted mono">{k.where}</span>
                </td>
                <td class="small muted">
                  {k.subject ?? (k.note ? <span title={k.note}>{k.note}</span> : '—')}
                </td>
                <td class="nowrap">{k.notAfter ? fmtTime(k.notAfter) : '—'}</td>
                <td class="num">{k.daysLeft === null ? '—' : Math.floor(k.daysLeft)}</td>
                <td>
                  {k.status === 'unknown' ? (
                    <Badge tone="muted">unknown</Badge>
                  ) : k.status === 'n/a' ? (
                    <Badge tone="info">no expiry</Badge>
                  ) : (
                    <StatusBadge status={k.status} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
    </>
  );
}
