import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { CARD_STATUSES } from '../../domain/card-statuses.js';
import type { DataProtector } from '../../protect/data-protector.js';
import type { CardholderRecord, CardholderStore } from '../../storage/cardholder-store.js';
import { normaliseEmail, normalisePhone } from '../match/contact-normalise.js';
import type { Cardholder } from './cardholder.js';
import { sealCardholder } from './cardholder-codec.js';
import { readCardholderFile } from './cardholder-file.js';

export type RowErrorCode =
  | 'ROW_MALFORMED'
  | 'ACCOUNT_NUMBER_INVALID'
  | 'NAME_MISSING'
  | 'NAME_TOO_LONG'
  | 'EMAIL_INVALID'
  | 'PHONE_INVALID'
  | 'STATUS_INVALID'
  | 'LANGUAGE_INVALID';

/** A skipped row: its line and what was wrong, never the value (it may be a card number). */
export interface RowError {
  line: number;
  code: RowErrorCode;
  field?: string;
}

export interface ImportReport {
  rows: number;
  inserted: number;
  updated: number;
  skipped: number;
  errors: RowError[];
}

const many = (v: unknown): string[] =>
  (Array.isArray(v) ? v : typeof v === 'string' ? v.split(';') : [])
    .map((x) => (typeof x === 'string' ? x.trim() : ''))
    .filter((x) => x.length > 0);
const text = (v: unknown): string =>
  typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';

/**
 * Checks one row. Account numbers: 12–19 digits once spaces and dashes are removed. Status:
 * active, blocked or closed. Several emails or phones: `;`-separated in CSV, arrays in JSONL.
 * Phones must parse (E.164, or national in `defaultCountry`).
 */
export function validateRow(
  values: Record<string, unknown>,
  defaultCountry?: string,
): { accountNumber: string; cardholder: Cardholder } | { code: RowErrorCode; field: string } {
  const accountNumber = text(values.accountNumber).replace(/[\s-]/g, '');
  if (!/^[0-9]{12,19}$/.test(accountNumber))
    return { code: 'ACCOUNT_NUMBER_INVALID', field: 'accountNumber' };
  const firstName = text(values.firstName);
  const lastName = text(values.lastName);
  if (firstName.length === 0 && lastName.length === 0)
    return { code: 'NAME_MISSING', field: 'lastName' };
  if (firstName.length > 80) return { code: 'NAME_TOO_LONG', field: 'firstName' };
  if (lastName.length > 80) return { code: 'NAME_TOO_LONG', field: 'lastName' };
  const emails = many(values.emails ?? values.email);
  if (emails.some((e) => e.length > 254 || normaliseEmail(e) === undefined || /\s/.test(e)))
    return { code: 'EMAIL_INVALID', field: 'email' };
  const phones = many(values.phones ?? values.phone);
  if (
    phones.some(
      (p) =>
        !parsePhoneNumberFromString(p, defaultCountry as CountryCode | undefined)?.isPossible(),
    )
  )
    return { code: 'PHONE_INVALID', field: 'phone' };
  const status = text(values.status).toLowerCase();
  if (!(CARD_STATUSES as readonly string[]).includes(status))
    return { code: 'STATUS_INVALID', field: 'status' };
  const language = text(values.language);
  if (language.length > 0 && !/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(language))
    return { code: 'LANGUAGE_INVALID', field: 'language' };
  return {
    accountNumber,
    cardholder: {
      firstName: firstName || null,
      lastName: lastName || null,
      emails,
      phones,
      status: status as Cardholder['status'],
      language: language ? language.replace('_', '-') : null,
      normalisedPhones: {
        country: defaultCountry ?? null,
        values: phones.map((p) => normalisePhone(p, defaultCountry)).filter((p) => p !== undefined),
      },
    },
  };
}

/**
 * Imports a CSV or JSONL directory file: each good row is fingerprinted (the card number is
 * then dropped), its contact details encrypted, and upserted (a re-import updates). A bad row
 * is skipped and reported by line number and code. Writes in transactions of `batchSize`
 * (default 500) rows; `onProgress` hears the rows read so far after each.
 */
export async function importCardholders(
  path: string,
  store: CardholderStore,
  dp: DataProtector,
  o: {
    defaultCountry?: string | undefined;
    batchSize?: number;
    onProgress?: (rowsRead: number) => void;
  } = {},
): Promise<ImportReport> {
  const report: ImportReport = { rows: 0, inserted: 0, updated: 0, skipped: 0, errors: [] };
  let batch = new Map<string, CardholderRecord>();
  const flush = async () => {
    if (batch.size === 0) return;
    const r = await store.upsert([...batch.values()]);
    report.inserted += r.inserted;
    report.updated += r.updated;
    batch = new Map();
    o.onProgress?.(report.rows);
  };
  for await (const row of readCardholderFile(path)) {
    report.rows++;
    const checked =
      'error' in row
        ? { code: row.error, field: undefined }
        : validateRow(row.values, o.defaultCountry);
    if ('code' in checked) {
      report.skipped++;
      report.errors.push({
        line: row.line,
        code: checked.code,
        ...(checked.field ? { field: checked.field } : {}),
      });
      continue;
    }
    const fp = dp.fingerprint(checked.accountNumber);
    // The same card twice in one batch: write what came before first, so the later row wins.
    if (batch.has(fp)) await flush();
    batch.set(fp, sealCardholder(dp, fp, checked.cardholder));
    if (batch.size >= (o.batchSize ?? 500)) await flush();
  }
  await flush();
  return report;
}
