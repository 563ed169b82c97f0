import type { DataProtector } from '../../protect/data-protector.js';
import type { CardholderRecord } from '../../storage/cardholder-store.js';
import type { Cardholder } from './cardholder.js';

interface Contact {
  firstName: string | null;
  lastName: string | null;
  emails: string[];
  phones: string[];
  normalisedPhones?: Cardholder['normalisedPhones'];
}

/** Encrypts a cardholder's contact details (AES-256-GCM, AAD = the card's fingerprint). */
export function sealCardholder(
  dp: DataProtector,
  fingerprint: string,
  c: Cardholder,
): CardholderRecord {
  const contact: Contact = {
    firstName: c.firstName,
    lastName: c.lastName,
    emails: c.emails,
    phones: c.phones,
    ...(c.normalisedPhones ? { normalisedPhones: c.normalisedPhones } : {}),
  };
  return {
    fingerprint,
    status: c.status,
    language: c.language,
    dataKeyId: dp.activeKeyId,
    contactCiphertext: dp.encrypt(Buffer.from(JSON.stringify(contact), 'utf8'), fingerprint),
  };
}

/** Decrypts a stored record; throws if the key is not configured or the row was moved. */
export function openCardholder(dp: DataProtector, r: CardholderRecord): Cardholder {
  const contact = JSON.parse(
    dp.decrypt(r.dataKeyId, r.contactCiphertext, r.fingerprint).toString('utf8'),
  ) as Contact;
  return { ...contact, status: r.status, language: r.language };
}
