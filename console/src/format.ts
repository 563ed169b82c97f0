import type { RiskCode } from './types';

const dtf = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const tf = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const nf = new Intl.NumberFormat();

export const fmtTime = (iso: string | null | undefined) => (iso ? dtf.format(new Date(iso)) : '—');
export const fmtHour = (iso: string) => tf.format(new Date(iso));
export const fmtNum = (n: number) => nf.format(n);

/** "411111 •• 1111": BIN and last four only; the length in between is not known, so not drawn. */
export function maskedCard(bin: string | null, last4: string | null): string {
  if (!last4) return '—';
  return `${bin ?? '••••••'} •• ${last4}`;
}

export function enrollerName(e: { firstName: string | null; lastName: string | null }): string {
  return [e.firstName, e.lastName].filter(Boolean).join(' ') || '—';
}

export function ago(iso: string): string {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** How long until a time in the future ("in 5 h"); "now" once it has passed. */
export function until(iso: string): string {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return 'now';
  if (s < 3600) return `in ${Math.max(1, Math.round(s / 60))} min`;
  if (s < 86400) return `in ${Math.round(s / 3600)} h`;
  return `in ${Math.round(s / 86400)} d`;
}

/** Human wording for quarantine reason codes. */
export const REASONS: Record<string, string> = {
  JWE_MALFORMED: 'Encrypted payload malformed',
  JWE_ALG_NOT_ALLOWED: 'Encryption algorithm not allowed',
  JWE_KID_UNKNOWN: 'Encrypted to an unknown key',
  JWE_DECRYPTION_FAILED: 'Decryption failed',
  PAYLOAD_NOT_JSON: 'Payload is not JSON',
  PAYLOAD_INVALID: 'Payload fails validation',
};

/** Human wording for the risk rules' reason codes. */
const RISK_REASON_WORDS: Record<RiskCode, string> = {
  CARD_UNKNOWN: 'Card not in the cardholder directory',
  CARD_NOT_ACTIVE: 'Card blocked or closed',
  DIRECTORY_UNAVAILABLE: 'Cardholder directory unavailable',
  NAME_MISMATCH: 'Enroller name differs from the cardholder',
  NAME_WEAK_MATCH: 'Enroller name only loosely matches',
  EMAIL_MISMATCH: 'Email not on file',
  PHONE_MISMATCH: 'Phone not on file',
  CONTACT_MISMATCH: 'Neither email nor phone on file',
  VELOCITY_24H: 'Many attempts on this card in 24 h',
  VELOCITY_7D: 'Many attempts on this card in 7 days',
  MANY_ENROLLERS: 'Several different enrollers on this card',
  ENROLLER_RING: 'Same enroller contact across many cards',
  DISPOSABLE_EMAIL: 'Disposable email domain',
  LUHN_INVALID: 'Card number fails the Luhn check',
  BIN_OUT_OF_RANGE: "BIN outside the bank's ranges",
};
/** By code, as the API gives codes (strings); keyed by the risk codes above so none is left out. */
export const RISK_REASONS: Record<string, string> = RISK_REASON_WORDS;
