import type { RiskRule } from './risk-rule.js';

/**
 * Enroller's email vs those on file (compared in `risk-inputs.ts`: case, `+tags`, Gmail dots).
 * Detail: `onFile=N`.
 */
export const emailRule: RiskRule = {
  name: 'email',
  codes: ['EMAIL_MISMATCH'],
  evaluate({ inputs }) {
    return inputs.emailOnFile === false
      ? [{ code: 'EMAIL_MISMATCH', detail: `onFile=${inputs.emailsOnFile}` }]
      : [];
  },
};

/**
 * Enroller's phone vs those on file, as E.164 (`risk.defaultCountry` for national numbers). Detail:
 * `onFile=N`.
 */
export const phoneRule: RiskRule = {
  name: 'phone',
  codes: ['PHONE_MISMATCH'],
  evaluate({ inputs }) {
    return inputs.phoneOnFile === false
      ? [{ code: 'PHONE_MISMATCH', detail: `onFile=${inputs.phonesOnFile}` }]
      : [];
  },
};

/**
 * Neither the email nor the phone is one the bank has: nobody the bank can reach asked for
 * this enrollment, and Click to Pay's one-time codes go to whoever did. Extra points over the
 * two single mismatches, which a real cardholder changing one contact detail also produces.
 * Detail: `email=0 phone=0`.
 */
export const contactRule: RiskRule = {
  name: 'contact',
  codes: ['CONTACT_MISMATCH'],
  evaluate({ inputs }) {
    return inputs.emailOnFile === false && inputs.phoneOnFile === false
      ? [{ code: 'CONTACT_MISMATCH', detail: 'email=0 phone=0' }]
      : [];
  },
};
