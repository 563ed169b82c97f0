import type { Config } from '../config/config-schema.js';
import type { RiskCode, RiskLevel, RiskReason, ShadowHit } from '../domain/risk-codes.js';
import { DEFAULT_WEIGHTS } from './default-weights.js';
import { binRangeRule, luhnRule } from './rules/card-number-rules.js';
import { cardStatusRule } from './rules/card-status-rule.js';
import { contactRule, emailRule, phoneRule } from './rules/contact-rules.js';
import { disposableEmailRule } from './rules/disposable-email-rule.js';
import { nameRule } from './rules/name-rule.js';
import type { RiskContext, RiskRule } from './rules/risk-rule.js';
import {
  enrollersRule,
  ringRule,
  velocity7dRule,
  velocity24hRule,
} from './rules/velocity-rules.js';

/** Every rule, in the order their reasons are listed. */
export const RULES: readonly RiskRule[] = [
  cardStatusRule,
  nameRule,
  emailRule,
  phoneRule,
  contactRule,
  velocity24hRule,
  velocity7dRule,
  enrollersRule,
  ringRule,
  disposableEmailRule,
  luhnRule,
  binRangeRule,
];

export interface EngineResult {
  score: number;
  level: RiskLevel;
  reasons: RiskReason[];
  /** Hits of rules in shadow mode, with the points they would have added. */
  shadow: ShadowHit[];
  /** Score and level had the shadow rules counted. */
  wouldBe: { score: number; level: RiskLevel };
}

/**
 * Runs every rule and turns hits into a score: the sum of each active hit's points (its
 * code's weight × the hit's factor), capped at 100; the level from `risk.levels`. A code in
 * shadow mode is evaluated and reported in `shadow` but adds nothing; a code turned off is not
 * reported at all.
 */
export function assessRisk(ctx: RiskContext, rules: readonly RiskRule[] = RULES): EngineResult {
  const settings = ctx.settings;
  const reasons: RiskReason[] = [];
  const shadow: ShadowHit[] = [];
  let score = 0;
  let shadowPoints = 0;
  for (const rule of rules) {
    for (const hit of rule.evaluate(ctx)) {
      const setting = settings.rules[hit.code];
      const mode = setting?.mode ?? 'active';
      if (mode === 'off') continue;
      const points = Math.round(weightOf(hit.code, settings) * (hit.factor ?? 1));
      if (mode === 'shadow') {
        shadow.push({ code: hit.code, detail: hit.detail, points });
        shadowPoints += points;
      } else {
        reasons.push({ code: hit.code, detail: hit.detail });
        score += points;
      }
    }
  }
  const capped = Math.min(100, score);
  const wouldBe = Math.min(100, score + shadowPoints);
  return {
    score: capped,
    level: levelFor(capped, settings),
    reasons,
    shadow,
    wouldBe: { score: wouldBe, level: levelFor(wouldBe, settings) },
  };
}

export function weightOf(code: RiskCode, settings: Config['risk']): number {
  return settings.rules[code]?.weight ?? DEFAULT_WEIGHTS[code];
}

export function levelFor(score: number, settings: Config['risk']): RiskLevel {
  if (score >= settings.levels.high) return 'high';
  if (score >= settings.levels.medium) return 'medium';
  return 'low';
}
