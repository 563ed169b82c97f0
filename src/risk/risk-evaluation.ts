import type { CardholderAnswer, Disposition } from '../domain/case-codes.js';
import type { RiskLevel } from '../domain/risk-codes.js';
import type { LabelledAssessment } from '../storage/case-records.js';

/** What the bank learnt about an attempt: fraud or not; null when nobody said. */
export type Label = 'fraud' | 'legitimate';

/**
 * The label of an attempt. An analyst's disposition outranks the cardholder's answer (the
 * analyst saw the answer and more); `inconclusive` is no label, so the answer then stands.
 */
export function labelOf(
  disposition: Disposition | null,
  answer: CardholderAnswer | null,
): Label | null {
  if (disposition === 'confirmed_fraud') return 'fraud';
  if (disposition === 'legitimate') return 'legitimate';
  if (answer === 'not_recognised') return 'fraud';
  if (answer === 'recognised') return 'legitimate';
  return null;
}

export interface LevelCounts {
  fraud: number;
  legitimate: number;
  unlabelled: number;
}

/** Assessed level against labels. */
export type ConfusionMatrix = Record<RiskLevel, LevelCounts>;

export function emptyMatrix(): ConfusionMatrix {
  return {
    low: { fraud: 0, legitimate: 0, unlabelled: 0 },
    medium: { fraud: 0, legitimate: 0, unlabelled: 0 },
    high: { fraud: 0, legitimate: 0, unlabelled: 0 },
  };
}

export function count(m: ConfusionMatrix, level: RiskLevel, label: Label | null): void {
  m[level][label ?? 'unlabelled']++;
}

/** How one reason code did: how often it fired, and how often it was right on labelled attempts. */
export interface CodeStats {
  code: string;
  /** `shadow`: a shadow-mode hit (scored, not counted). */
  mode: 'active' | 'shadow';
  fired: number;
  /** Fired on labelled attempts. */
  labelled: number;
  /** Fired on attempts labelled fraud. */
  fraud: number;
  /** fraud / labelled; null when it never fired on a labelled attempt. */
  precision: number | null;
}

export interface Evaluation {
  /** Received at or after (ms); null: everything stored. */
  since: number | null;
  attempts: number;
  labelled: number;
  fraud: number;
  legitimate: number;
  matrix: ConfusionMatrix;
  /** Most often fired first. */
  reasons: CodeStats[];
}

/** Reads assessed attempts with their labels, oldest first, a page at a time. */
export type LabelledReader = (
  since: number,
  limit: number,
  after?: { receivedAt: number; id: string },
) => Promise<LabelledAssessment[]>;

/** Every labelled assessment received at or after `since`, page by page (keyset). */
export async function* labelledAttempts(
  read: LabelledReader,
  since: number,
  pageSize = 1000,
): AsyncGenerator<LabelledAssessment> {
  let after: { receivedAt: number; id: string } | undefined;
  for (;;) {
    const page = await read(since, pageSize, after);
    yield* page;
    if (page.length < pageSize) return;
    const last = page[page.length - 1]!;
    after = { receivedAt: last.receivedAt, id: last.notificationId };
  }
}

/**
 * The confusion matrix of assessed level against labels, and per reason code (active and
 * shadow) how often it fired and its precision on labelled attempts. Reads codes and levels
 * only: no personal data is involved.
 */
export async function evaluateRisk(read: LabelledReader, since?: number): Promise<Evaluation> {
  const matrix = emptyMatrix();
  const codes = new Map<string, CodeStats>();
  const e: Evaluation = {
    since: since ?? null,
    attempts: 0,
    labelled: 0,
    fraud: 0,
    legitimate: 0,
    matrix,
    reasons: [],
  };
  for await (const a of labelledAttempts(read, since ?? 0)) {
    const label = labelOf(a.disposition, a.answer);
    e.attempts++;
    if (label !== null) {
      e.labelled++;
      e[label]++;
    }
    count(matrix, a.level, label);
    const hits = [
      ...a.reasons.map((r) => [r.code, 'active'] as const),
      ...a.shadow.map((r) => [r.code, 'shadow'] as const),
    ];
    for (const [code, mode] of new Map(hits)) {
      const key = `${mode}:${code}`;
      let s = codes.get(key);
      if (s === undefined) {
        s = { code, mode, fired: 0, labelled: 0, fraud: 0, precision: null };
        codes.set(key, s);
      }
      s.fired++;
      if (label !== null) s.labelled++;
      if (label === 'fraud') s.fraud++;
    }
  }
  for (const s of codes.values()) s.precision = s.labelled === 0 ? null : s.fraud / s.labelled;
  e.reasons = [...codes.values()].sort(
    (a, b) => b.fired - a.fired || a.code.localeCompare(b.code) || a.mode.localeCompare(b.mode),
  );
  return e;
}
