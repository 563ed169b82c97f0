import { nameSimilarity } from '../match/name-similarity.js';
import type { RiskRule } from './risk-rule.js';

/**
 * Enroller's name vs the cardholder's on file (normalised: case, accents, transliteration,
 * order, initials, nicknames; typos by edit distance). Below `risk.name.weakAt`: NAME_MISMATCH;
 * below `risk.name.matchAt`: NAME_WEAK_MATCH. Detail: `similarity=0.42`.
 */
export const nameRule: RiskRule = {
  name: 'name',
  codes: ['NAME_MISMATCH', 'NAME_WEAK_MATCH'],
  evaluate({ attempt, directory, settings }) {
    if (directory.kind !== 'found') return [];
    const sim = nameSimilarity(attempt, directory.cardholder);
    if (sim === undefined) return [];
    const detail = `similarity=${sim.toFixed(2)}`;
    if (sim < settings.name.weakAt) return [{ code: 'NAME_MISMATCH', detail }];
    if (sim < settings.name.matchAt) return [{ code: 'NAME_WEAK_MATCH', detail }];
    return [];
  },
};
