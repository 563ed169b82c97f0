import { normaliseEmail, normalisePhone } from '../match/contact-normalise.js';
import type { RiskContext, RiskRule } from './risk-rule.js';

/** undefined: nothing to compare (no value given, or none on file); else whether it is on file. */
export function emailOnFile(ctx: RiskContext): boolean | undefined {
  if (ctx.directory.kind !== 'found') return undefined;
  const given = normaliseEmail(ctx.attempt.contactEmail);
  const onFile = ctx.directory.cardholder.emails
    .map((e) => normaliseEmail(e))
    .filter((e) => e !== undefined);
  if (given === undefined || onFile.length === 0) return undefined;
  return onFile.includes(given);
}

export function phoneOnFile(ctx: RiskContext): boolean | undefined {
  if (ctx.directory.kind !== 'found') return undefined;
  const country = ctx.settings.defaultCountry;
  const given = normalisePhone(ctx.attempt.phoneNumber, country);
  const onFile = ctx.directory.cardholder.phones
    .map((p) => normalisePhone(p, country))
    .filter((p) => p !== undefined);
  if (given === undefined || onFile.length === 0) return undefined;
  return onFile.includes(given);
}

/** Enroller's email vs those on file (case, `+tags`, Gmail dots). Detail: `onFile=N`. */
export const emailRule: RiskRule = {
  name: 'email',
  codes: ['EMAIL_MISMATCH'],
  evaluate(ctx) {
    if (emailOnFile(ctx) !== false || ctx.directory.kind !== 'found') return [];
    return [{ code: 'EMAIL_MISMATCH', detail: `onFile=${ctx.directory.cardholder.emails.length}` }];
  },
};

/**
 * Enroller's phone vs those on file, as E.164 (`risk.defaultCountry` for national numbers). Detail:
 * `onFile=N`.
 */
export const phoneRule: RiskRule = {
  name: 'phone',
  codes: ['PHONE_MISMATCH'],
  evaluate(ctx) {
    if (phoneOnFile(ctx) !== false || ctx.directory.kind !== 'found') return [];
    return [{ code: 'PHONE_MISMATCH', detail: `onFile=${ctx.directory.cardholder.phones.length}` }];
  },
};

/**
 * Neither the email nor the phone is one the bank has: nobody the bank can reach asked for
 * this enrollment. Extra points over the two single mismatches, which a real cardholder
 * changing one contact detail also produces. Detail: `email=0 phone=0`.
 */
export const contactRule: RiskRule = {
  name: 'contact',
  codes: ['CONTACT_MISMATCH'],
  evaluate(ctx) {
    return emailOnFile(ctx) === false && phoneOnFile(ctx) === false
      ? [{ code: 'CONTACT_MISMATCH', detail: 'email=0 phone=0' }]
      : [];
  },
};
