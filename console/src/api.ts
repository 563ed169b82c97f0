import type { ConsoleRole } from './labels';

/** The console's only way to the server: same-origin JSON, CSRF token on writes. */

export interface Me {
  name: string;
  role: ConsoleRole;
  allIssuers: boolean;
  /** The configured issuers this operator sees: the switcher's choices. */
  issuerChoices: { id: string; name: string }[];
  csrfToken: string | null;
}

let csrf: string | null = null;

/**
 * The issuer chosen in the switcher (null: every issuer the operator sees). The list routes
 * that take `?issuer=` get it added here, so no page can forget it.
 */
let issuer: string | null = sessionStorage.getItem('ctp-issuer');
const PER_ISSUER = new Set([
  '/api/notifications',
  '/api/deliveries',
  '/api/cases',
  '/api/audit',
  '/api/stats',
  '/api/sinks',
  '/api/keys',
]);

export function chosenIssuer(): string | null {
  return issuer;
}

export function chooseIssuer(id: string | null): void {
  issuer = id;
  if (id === null) sessionStorage.removeItem('ctp-issuer');
  else sessionStorage.setItem('ctp-issuer', id);
}

function withIssuer(path: string, method: string, body: unknown): [string, unknown] {
  if (issuer === null) return [path, body];
  const [p = '', q = ''] = path.split('?');
  if (method === 'GET' && PER_ISSUER.has(p)) {
    const params = new URLSearchParams(q);
    params.set('issuer', issuer);
    return [`${p}?${params}`, body];
  }
  if (method === 'POST' && p === '/api/notifications/search' && typeof body === 'object')
    return [path, { ...body, issuer }];
  return [path, body];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(
  method: 'GET' | 'POST',
  rawPath: string,
  rawBody?: unknown,
): Promise<T> {
  const [path, body] = withIssuer(rawPath, method, rawBody);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? (method === 'POST' ? '{}' : undefined) : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 401) {
    location.assign('/login');
    throw new ApiError(401, 'UNAUTHENTICATED', 'Your session ended. Sign in again.');
  }
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? String(res.status), e?.message ?? res.statusText);
  }
  return data as T;
}

export async function loadMe(): Promise<Me> {
  const me = await api<Me>('GET', '/api/me');
  csrf = me.csrfToken;
  // A choice the operator no longer has (another operator in this tab, a scope changed).
  if (issuer !== null && !me.issuerChoices.some((i) => i.id === issuer)) chooseIssuer(null);
  return me;
}

export async function logout(): Promise<void> {
  await fetch('/logout', {
    method: 'POST',
    headers: csrf ? { 'x-csrf-token': csrf } : {},
    credentials: 'same-origin',
  });
  location.assign('/login');
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
