import type { Config } from '../../config/config-schema.js';
import type { DirectoryResult } from '../directory/cardholder.js';
import type { RiskCode } from '../risk-codes.js';

/** What one attempt looks like to the rules: the enroller as Visa sent it, the card masked. */
export interface AttemptFacts {
  receivedAt: number;
  firstName: string | null;
  lastName: string | null;
  contactEmail: string | null;
  phoneNumber: string | null;
  panBin: string | null;
  panLast4: string | null;
  panLuhnValid: boolean | null;
  panFingerprint: string | null;
}

/** Counts from storage around this attempt (windows end at its arrival, and include it). */
export interface AttemptHistory {
  attempts24h: number;
  attempts7d: number;
  /**
   * Distinct enrollers on this card in 7 days (attempts sharing an email or phone are one
   * enroller).
   */
  enrollers7d: number;
  /**
   * Distinct cards enrolled with this attempt's email / phone within the ring window, this card
   * included.
   */
  cardsByEmail: number;
  cardsByPhone: number;
}

export interface RiskContext {
  attempt: AttemptFacts;
  directory: DirectoryResult;
  history: AttemptHistory;
  settings: Config['risk'];
}

/** One signal: a code and a detail of codes and numbers (never personal data). */
export interface RuleHit {
  code: RiskCode;
  detail: string;
  /** Share of the code's weight, in (0, 1]. Default 1. */
  factor?: number;
}

/** A small, pure rule: reads the context, returns its hits (usually none or one). */
export interface RiskRule {
  /** Stable name of the module, for logs. */
  readonly name: string;
  readonly codes: readonly RiskCode[];
  evaluate(ctx: RiskContext): RuleHit[];
}
