import type { RiskRule } from './risk-rule.js';

/**
 * Enroller's name vs the cardholder's on file (normalised: case, accents, transliteration,
 * order, initials, nicknames; typos by edit distance; see `match/name-similarity.ts`). Below
 * `risk.name.weakAt`: NAME_MISMATCH; below `risk.name.matchAt`: NAME_WEAK_MATCH. Detail:
 * `similarity=0.42`.
 */
export const nameRule: RiskRule = {
  name: 'name',
  codes: ['NAME_MISMATCH', 'NAME_WEAK_MATCH'],
  evaluate({ inputs, settings }) {
    const sim = inputs.nameSimilarity;
    if (inputs.directory !== 'found' || sim === null) return [];
    const detail = `similarity=${sim.toFixed(2)}`;
    if (sim < settings.name.weakAt) return [{ code: 'NAME_MISMATCH', detail }];
    if (sim < settings.name.matchAt) return [{ code: 'NAME_WEAK_MATCH', detail }];
    return [];
  },
};
