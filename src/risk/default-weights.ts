import type { RiskCode } from '../domain/risk-codes.js';

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
