/**
 * Every reason code a rule can emit. Codes are a public contract (stored with assessments,
 * carried in events, used as config keys for weights and shadow mode): add, never rename.
 */
export const RISK_CODES = [
  'CARD_UNKNOWN',
  'CARD_NOT_ACTIVE',
  'DIRECTORY_UNAVAILABLE',
  'NAME_MISMATCH',
  'NAME_WEAK_MATCH',
  'EMAIL_MISMATCH',
  'PHONE_MISMATCH',
  'CONTACT_MISMATCH',
  'VELOCITY_24H',
  'VELOCITY_7D',
  'MANY_ENROLLERS',
  'ENROLLER_RING',
  'DISPOSABLE_EMAIL',
  'LUHN_INVALID',
  'BIN_OUT_OF_RANGE',
] as const;

export type RiskCode = (typeof RISK_CODES)[number];

/**
 * Default points per code (0–100 scale; the score is their sum, capped at 100). Chosen so one
 * strong signal (unknown or blocked card) is `high` alone, an unrelated enroller (name, email
 * and phone all differ) is `high`, one legitimate change (a new email) stays `low`, and an
 * enroller with the card's real name but neither contact on file (the commonest Click to Pay
 * takeover: the one-time codes go to the fraudster) is `high`: EMAIL 15 + PHONE 15 + CONTACT 40.
 * CONTACT_MISMATCH was 15 until the backtest showed those takeovers all at medium; the price is
 * that a cardholder whose email and phone on file are both out of date is `high` too
 * (docs/fraud.md, decision 0031).
 */
export const DEFAULT_WEIGHTS: Readonly<Record<RiskCode, number>> = {
  CARD_UNKNOWN: 70,
  CARD_NOT_ACTIVE: 80,
  DIRECTORY_UNAVAILABLE: 0,
  NAME_MISMATCH: 40,
  NAME_WEAK_MATCH: 15,
  EMAIL_MISMATCH: 15,
  PHONE_MISMATCH: 15,
  CONTACT_MISMATCH: 40,
  VELOCITY_24H: 25,
  VELOCITY_7D: 15,
  MANY_ENROLLERS: 30,
  ENROLLER_RING: 50,
  DISPOSABLE_EMAIL: 25,
  LUHN_INVALID: 40,
  BIN_OUT_OF_RANGE: 50,
};

export type RiskLevel = 'low' | 'medium' | 'high';
export const RISK_LEVELS: readonly RiskLevel[] = ['low', 'medium', 'high'];

/** A reason as stored, listed and delivered: a code and a detail made of codes and numbers only. */
export interface RiskReason {
  code: RiskCode;
  detail: string;
}

/** The public shape (`notifications list`, delivered events). */
export interface RiskSummary {
  score: number;
  level: RiskLevel;
  reasons: RiskReason[];
}

/** A shadow-mode hit: scored and logged with its would-be effect, not counted. */
export interface ShadowHit extends RiskReason {
  points: number;
}

/**
 * What the rules read of one attempt, as codes and numbers only: stored with each assessment
 * (`risk_assessments.inputs`) so that a backtest re-scores it exactly under another `risk`
 * configuration. Never a name, an email, a phone or a card number: the comparisons with the
 * cardholder on file are made once, at assessment time, and only their outcomes are kept.
 * Version 1; a member added later is optional, and a reader treats its absence as "not known".
 */
export interface RiskInputs {
  v: 1;
  /** What the directory answered. */
  directory: 'found' | 'unknown' | 'unavailable';
  /** Why it did not answer (`unavailable` only). */
  directoryCause: 'timeout' | 'error' | null;
  directoryMs: number | null;
  /** The card's status on file (`found` only). */
  cardStatus: 'active' | 'blocked' | 'closed' | null;
  /** Enroller's name vs the cardholder's, 0–1; null when either side has no name. */
  nameSimilarity: number | null;
  /** Whether the enroller's email is one on file; null: nothing to compare. */
  emailOnFile: boolean | null;
  /** How many emails are on file. */
  emailsOnFile: number;
  phoneOnFile: boolean | null;
  phonesOnFile: number;
  disposableEmail: boolean;
  luhnValid: boolean | null;
  /** First six digits (shown by every listing; not a card number). */
  bin: string | null;
  attempts24h: number;
  attempts7d: number;
  enrollers7d: number;
  cardsByEmail: number;
  cardsByPhone: number;
}

export function levelAtLeast(level: RiskLevel, min: RiskLevel): boolean {
  return RISK_LEVELS.indexOf(level) >= RISK_LEVELS.indexOf(min);
}
