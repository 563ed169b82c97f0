import anyAscii from 'any-ascii';
import { nicknameEquivalent } from './nicknames.js';
import { osaSimilarity } from './string-similarity.js';

/** Titles and suffixes that say nothing about who a person is. */
const NOISE = new Set([
  'mr',
  'mrs',
  'ms',
  'miss',
  'mx',
  'dr',
  'prof',
  'sir',
  'dame',
  'mme',
  'mlle',
  'm',
  'herr',
  'frau',
  'sr',
  'sra',
  'srta',
  'jr',
  'snr',
  'jnr',
  'ii',
  'iii',
  'iv',
]);

/**
 * Name tokens for comparison: transliterated to ASCII (any script: "Дмитрий" → "dmitriy",
 * "Zoë" → "zoe", "ß" → "ss"), lower case, split on anything not a letter, titles dropped.
 */
export function nameTokens(name: string | null | undefined): string[] {
  if (!name) return [];
  const ascii = anyAscii(name.normalize('NFKC')).toLowerCase();
  const tokens = ascii.split(/[^a-z]+/).filter((t) => t.length > 0);
  const kept = tokens.filter((t) => !NOISE.has(t));
  // A name made only of a title-like token ("M") is kept rather than emptied.
  return kept.length > 0 ? kept : tokens;
}

/** German umlaut spellings (ae, oe, ue) and "ph" fold to one form: Mueller = Müller = Muller. */
function fold(t: string): string {
  return t
    .replace(/ae/g, 'a')
    .replace(/oe/g, 'o')
    .replace(/ue/g, 'u')
    .replace(/ph/g, 'f')
    .replace(/(.)\1/g, '$1');
}

/**
 * Similarity of two name tokens in [0, 1]: 1 equal (after folding), 0.95 nickname-equivalent,
 * 0.85 an initial that fits, else 1 − edit distance / length (typos).
 */
export function tokenSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length === 1 || b.length === 1) return a[0] === b[0] ? 0.85 : 0;
  const fa = fold(a);
  const fb = fold(b);
  if (fa === fb) return 1;
  if (nicknameEquivalent(a, b)) return 0.95;
  return Math.max(osaSimilarity(a, b), osaSimilarity(fa, fb));
}

/** Best similarity between any token of one part and any token of the other (compound names). */
function partSimilarity(x: string[], y: string[]): number {
  if (x.length === 0 || y.length === 0) return 0;
  let best = 0;
  for (const a of x) for (const b of y) best = Math.max(best, tokenSimilarity(a, b));
  // "Marie-Claire" vs "Marie Claire", "jean-baptiste" as one nickname entry.
  const jx = x.join('-');
  const jy = y.join('-');
  if (nicknameEquivalent(jx, jy) || x.join('') === y.join('')) best = Math.max(best, 1);
  return best;
}

export interface PersonName {
  firstName: string | null | undefined;
  lastName: string | null | undefined;
}

/**
 * How alike an enroller's name is to the cardholder's, in [0, 1]. Handles case, accents,
 * transliteration, swapped first and last names, initials, nicknames, compound names and
 * typos. The family name weighs more (0.6) than the given name (0.4): a nickname or an initial
 * is common for the latter, rarely for the former. Returns undefined when either side has no name.
 */
export function nameSimilarity(enroller: PersonName, cardholder: PersonName): number | undefined {
  const ef = nameTokens(enroller.firstName);
  const el = nameTokens(enroller.lastName);
  const cf = nameTokens(cardholder.firstName);
  const cl = nameTokens(cardholder.lastName);
  if (ef.length + el.length === 0 || cf.length + cl.length === 0) return undefined;
  const straight = 0.4 * partSimilarity(ef, cf) + 0.6 * partSimilarity(el, cl);
  const swapped = 0.4 * partSimilarity(el, cf) + 0.6 * partSimilarity(ef, cl);
  // Everything typed into one field ("Jane Smith" as firstName): compare as one pool, given
  // name = all but the last token.
  const all = [...ef, ...el];
  const pooled =
    all.length >= 2
      ? 0.4 * partSimilarity(all.slice(0, -1), cf) + 0.6 * partSimilarity(all.slice(-1), cl)
      : 0;
  return Math.round(Math.max(straight, swapped, pooled) * 100) / 100;
}
