import type { ConsoleRole } from './labels';

/** The console's only way to the server: same-origin JSON, CSRF token on writes. */

export interface Me {
  name: string;
  role: ConsoleRole;
  csrfToken: string | null;
}

let csrf: string | null = null;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
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
