import { binInRanges } from '../../visa/bin-in-ranges.js';
import type { RiskRule } from './risk-rule.js';

/**
 * The card number fails its ISO/IEC 7812-1 check digit: typed or generated, not read from a card.
 */
export const luhnRule: RiskRule = {
  name: 'luhn',
  codes: ['LUHN_INVALID'],
  evaluate({ inputs }) {
    return inputs.luhnValid === false ? [{ code: 'LUHN_INVALID', detail: 'luhn=0' }] : [];
  },
};

/**
 * The card's BIN is outside `risk.binRanges` (off when none are configured). Compared on the
 * stored first six digits, so ranges longer than six digits compare on their first six.
 * Detail: `bin6=0` (the BIN itself is shown by listings, not repeated here).
 */
export const binRangeRule: RiskRule = {
  name: 'bin-range',
  codes: ['BIN_OUT_OF_RANGE'],
  evaluate({ inputs, settings }) {
    const ranges = settings.binRanges;
    if (!ranges || inputs.bin === null) return [];
    const six = ranges.map((r) =>
      r
        .split('-')
        .map((b) => b.slice(0, 6))
        .join('-'),
    );
    return binInRanges(inputs.bin, six)
      ? []
      : [{ code: 'BIN_OUT_OF_RANGE', detail: `ranges=${ranges.length}` }];
  },
};
