import type { CardStatus } from './card-statuses.js';

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

/** Levels of an assessment, lowest first (the order {@link levelAtLeast} compares by). */
export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

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
  cardStatus: CardStatus | null;
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

/** True when `level` is `min` or above. */
export function levelAtLeast(level: RiskLevel, min: RiskLevel): boolean {
  return RISK_LEVELS.indexOf(level) >= RISK_LEVELS.indexOf(min);
}
