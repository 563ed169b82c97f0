import type { RiskRule } from './risk-rule.js';

/** Attempts on one card in 24 hours above `risk.velocity.max24h`. Detail: `attempts=N limit=M`. */
export const velocity24hRule: RiskRule = {
  name: 'velocity-24h',
  codes: ['VELOCITY_24H'],
  evaluate({ inputs: history, settings }) {
    const limit = settings.velocity.max24h;
    return history.attempts24h > limit
      ? [{ code: 'VELOCITY_24H', detail: `attempts=${history.attempts24h} limit=${limit}` }]
      : [];
  },
};

/** Attempts on one card in 7 days above `risk.velocity.max7d`. Detail: `attempts=N limit=M`. */
export const velocity7dRule: RiskRule = {
  name: 'velocity-7d',
  codes: ['VELOCITY_7D'],
  evaluate({ inputs: history, settings }) {
    const limit = settings.velocity.max7d;
    return history.attempts7d > limit
      ? [{ code: 'VELOCITY_7D', detail: `attempts=${history.attempts7d} limit=${limit}` }]
      : [];
  },
};

/**
 * More distinct enrollers on one card in 7 days than `risk.velocity.maxEnrollers7d`; attempts
 * sharing an email or a phone count as one enroller (a cardholder who changes email is still
 * one person). Detail: `enrollers=N limit=M`.
 */
export const enrollersRule: RiskRule = {
  name: 'enrollers',
  codes: ['MANY_ENROLLERS'],
  evaluate({ inputs: history, settings }) {
    const limit = settings.velocity.maxEnrollers7d;
    return history.enrollers7d > limit
      ? [{ code: 'MANY_ENROLLERS', detail: `enrollers=${history.enrollers7d} limit=${limit}` }]
      : [];
  },
};

/**
 * One enroller email or phone on more cards than `risk.ring.maxCards` within
 * `risk.ring.windowDays`. Detail: `cards=N via=email|phone windowDays=D`.
 */
export const ringRule: RiskRule = {
  name: 'ring',
  codes: ['ENROLLER_RING'],
  evaluate({ inputs: history, settings }) {
    const { maxCards, windowDays } = settings.ring;
    const via = history.cardsByEmail >= history.cardsByPhone ? 'email' : 'phone';
    const cards = Math.max(history.cardsByEmail, history.cardsByPhone);
    return cards > maxCards
      ? [{ code: 'ENROLLER_RING', detail: `cards=${cards} via=${via} windowDays=${windowDays}` }]
      : [];
  },
};
