import type { RiskInputs } from '../domain/risk-codes.js';
import { normaliseEmail, normalisePhone } from './match/contact-normalise.js';
import { nameSimilarity } from './match/name-similarity.js';
import { isDisposableEmail } from './rules/disposable-email-rule.js';
import type { AttemptContext } from './rules/risk-rule.js';

/** undefined: nothing to compare (no value given, or none on file); else whether it is on file. */
export function emailOnFile(ctx: Omit<AttemptContext, 'history'>): boolean | undefined {
  if (ctx.directory.kind !== 'found') return undefined;
  const given = normaliseEmail(ctx.attempt.contactEmail);
  const onFile = ctx.directory.cardholder.emails
    .map((e) => normaliseEmail(e))
    .filter((e) => e !== undefined);
  if (given === undefined || onFile.length === 0) return undefined;
  return onFile.includes(given);
}

/** As {@link emailOnFile}, as E.164 (`risk.defaultCountry` reads national numbers). */
export function phoneOnFile(ctx: Omit<AttemptContext, 'history'>): boolean | undefined {
  if (ctx.directory.kind !== 'found') return undefined;
  const country = ctx.settings.defaultCountry;
  const given = normalisePhone(ctx.attempt.phoneNumber, country);
  const { phones, normalisedPhones } = ctx.directory.cardholder;
  const onFile =
    normalisedPhones !== undefined && normalisedPhones.country === (country ?? null)
      ? normalisedPhones.values
      : phones.map((p) => normalisePhone(p, country)).filter((p) => p !== undefined);
  if (given === undefined || onFile.length === 0) return undefined;
  return onFile.includes(given);
}

/**
 * The comparisons the rules need, made once against the cardholder on file: the personal data
 * stays here, the rules (and the stored assessment) see codes and numbers. Thresholds are not
 * applied here (they are the rules' business), so a backtest can apply other ones.
 */
export function riskInputs(ctx: AttemptContext): RiskInputs {
  const { attempt, directory, history } = ctx;
  const found = directory.kind === 'found' ? directory.cardholder : undefined;
  return {
    v: 1,
    directory: directory.kind,
    directoryCause: directory.kind === 'unavailable' ? directory.reason : null,
    directoryMs: directory.kind === 'unavailable' ? Math.round(directory.elapsedMs) : null,
    cardStatus: found?.status ?? null,
    nameSimilarity: found ? (nameSimilarity(attempt, found) ?? null) : null,
    emailOnFile: emailOnFile(ctx) ?? null,
    emailsOnFile: found?.emails.length ?? 0,
    phoneOnFile: phoneOnFile(ctx) ?? null,
    phonesOnFile: found?.phones.length ?? 0,
    disposableEmail: isDisposableEmail(attempt.contactEmail),
    luhnValid: attempt.panLuhnValid,
    bin: attempt.panBin,
    attempts24h: history.attempts24h,
    attempts7d: history.attempts7d,
    enrollers7d: history.enrollers7d,
    cardsByEmail: history.cardsByEmail,
    cardsByPhone: history.cardsByPhone,
  };
}
