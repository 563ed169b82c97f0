import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

/** Providers whose mailboxes ignore dots in the local part (Gmail's documented behaviour). */
const DOTLESS_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/**
 * The mailbox an address reaches, for comparing: lower case (local parts are case-insensitive
 * at every mainstream provider although RFC 5321 allows otherwise), a `+tag` dropped (RFC 5233
 * sub-addressing, supported by Gmail, Outlook, iCloud, Fastmail, Proton), and for Gmail dots
 * removed and googlemail.com read as gmail.com. Undefined when it is not an address.
 */
export function normaliseEmail(email: string | null | undefined): string | undefined {
  if (!email) return undefined;
  const at = email.trim().lastIndexOf('@');
  if (at <= 0) return undefined;
  let local = email.trim().slice(0, at).toLowerCase();
  let domain = email
    .trim()
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, '');
  if (domain.length === 0 || !domain.includes('.')) return undefined;
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  if (DOTLESS_DOMAINS.has(domain)) {
    local = local.replace(/\./g, '');
    domain = 'gmail.com';
  }
  return `${local}@${domain}`;
}

/** The domain of an address, lower case; undefined when there is none. */
export function emailDomain(email: string | null | undefined): string | undefined {
  const n = normaliseEmail(email);
  return n?.slice(n.lastIndexOf('@') + 1);
}

/**
 * Numbers parsed lately, by country and number: one assessment reads the enroller's phone for its
 * keyed hash and again for each phone rule, and each number on file once per rule, and a parse
 * (libphonenumber-js, tens of µs) cost more than the rest of those rules. Cleared when full.
 */
const parsedPhones = new Map<string, string | undefined>();
const PARSED_PHONES_MAX = 1024;

/**
 * A phone number as E.164 (libphonenumber-js), national numbers read in `defaultCountry`.
 * When it cannot be parsed, its digits alone (so two equal unparseable numbers still match).
 */
export function normalisePhone(
  phone: string | null | undefined,
  defaultCountry?: string,
): string | undefined {
  if (!phone) return undefined;
  const key = `${defaultCountry ?? ''}:${phone}`;
  const known = parsedPhones.get(key);
  if (known !== undefined || parsedPhones.has(key)) return known;
  const parsed = parsePhoneNumberFromString(phone, defaultCountry as CountryCode | undefined);
  const digits = parsed?.isPossible() ? parsed.number : phone.replace(/[^0-9]/g, '');
  const out = digits.length > 0 ? digits : undefined;
  if (parsedPhones.size >= PARSED_PHONES_MAX) parsedPhones.clear();
  parsedPhones.set(key, out);
  return out;
}
