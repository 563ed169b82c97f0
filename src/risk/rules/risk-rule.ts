import type { Config } from '../../config/config-schema.js';
import type { RiskCode, RiskInputs } from '../../domain/risk-codes.js';
import type { DirectoryResult } from '../directory/cardholder.js';

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

/** Everything known about an attempt when it is assessed (personal data included, in memory). */
export interface AttemptContext {
  attempt: AttemptFacts;
  directory: DirectoryResult;
  history: AttemptHistory;
  settings: Config['risk'];
}

/**
 * What a rule reads: the attempt's inputs (codes and numbers, see `risk-inputs.ts`) and the
 * `risk` settings. The same inputs are stored with the assessment, so a backtest runs the same
 * rules on them under other settings.
 */
export interface RiskContext {
  inputs: RiskInputs;
  settings: Config['risk'];
}

/** One signal: a code and a detail of codes and numbers (never personal data). */
export interface RuleHit {
  code: RiskCode;
  detail: string;
  /** Share of the code's weight, in (0, 1]. Default 1. */
  factor?: number;
}

/** A small, pure rule: reads the inputs and settings, returns its hits (usually none or one). */
export interface RiskRule {
  /** Stable name of the module, for logs. */
  readonly name: string;
  readonly codes: readonly RiskCode[];
  evaluate(ctx: RiskContext): RuleHit[];
}
