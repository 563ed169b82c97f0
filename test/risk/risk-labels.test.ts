import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backtestRisk } from '../../src/risk/risk-backtest.js';
import { assessRisk } from '../../src/risk/risk-engine.js';
import {
  evaluateRisk,
  type LabelledReader,
  labelledAttempts,
  labelOf,
} from '../../src/risk/risk-evaluation.js';
import type { LabelledAssessment } from '../../src/storage/case-records.js';
import { context, riskSettings } from '../support/risk-context.js';

/** A stored attempt as the live engine assessed it, with the given labels. */
function stored(
  n: number,
  attempt: Parameters<typeof context>[0],
  labels: Pick<LabelledAssessment, 'disposition' | 'answer'>,
): LabelledAssessment {
  const ctx = context(attempt);
  const r = assessRisk(ctx);
  return {
    notificationId: `n${String(n).padStart(3, '0')}`,
    receivedAt: 1000 + n,
    score: r.score,
    level: r.level,
    reasons: r.reasons,
    shadow: r.shadow,
    inputs: ctx.inputs,
    ...labels,
  };
}

/** Reads `rows` as the case store does: oldest first, after the keyset, `limit` at a time. */
const reader =
  (rows: LabelledAssessment[]): LabelledReader =>
  async (since, limit, after) =>
    rows
      .filter((r) => r.receivedAt >= since)
      .filter(
        (r) =>
          !after ||
          r.receivedAt > after.receivedAt ||
          (r.receivedAt === after.receivedAt && r.notificationId > after.id),
      )
      .slice(0, limit);

const knowsName = { attempt: { contactEmail: 'x@example.net', phoneNumber: '07700900999' } };
const stranger = {
  attempt: {
    firstName: 'Emma',
    lastName: 'Garcia',
    contactEmail: 'e@example.net',
    phoneNumber: '07700900998',
  },
};
const none = { disposition: null, answer: null };

describe('labels, evaluation and backtests', () => {
  it('a disposition outranks an answer; inconclusive leaves the answer standing', () => {
    assert.equal(labelOf('confirmed_fraud', 'recognised'), 'fraud');
    assert.equal(labelOf('legitimate', 'not_recognised'), 'legitimate');
    assert.equal(labelOf('inconclusive', 'not_recognised'), 'fraud');
    assert.equal(labelOf('inconclusive', null), null);
    assert.equal(labelOf(null, 'recognised'), 'legitimate');
    assert.equal(labelOf(null, null), null);
  });

  it('evaluation: level against labels, and per code how often it fired and was right, paged through', async () => {
    const rows = [
      stored(1, {}, { disposition: null, answer: 'recognised' }),
      stored(2, stranger, { disposition: 'confirmed_fraud', answer: null }),
      stored(3, knowsName, { disposition: null, answer: 'not_recognised' }),
      stored(4, knowsName, { disposition: 'legitimate', answer: 'not_recognised' }),
      stored(5, knowsName, none),
      stored(6, { risk: { rules: { NAME_MISMATCH: { mode: 'shadow' } } }, ...stranger }, none),
    ];
    const e = await evaluateRisk(reader(rows));
    assert.deepEqual([e.attempts, e.labelled, e.fraud, e.legitimate], [6, 4, 2, 2]);
    assert.deepEqual(e.matrix.low, { fraud: 0, legitimate: 1, unlabelled: 0 });
    assert.deepEqual(e.matrix.high, { fraud: 2, legitimate: 1, unlabelled: 2 });
    const contact = e.reasons.find((r) => r.code === 'CONTACT_MISMATCH' && r.mode === 'active')!;
    assert.deepEqual([contact.fired, contact.labelled, contact.fraud], [5, 3, 2]);
    assert.equal(contact.precision, 2 / 3);
    const shadow = e.reasons.find((r) => r.mode === 'shadow')!;
    assert.deepEqual([shadow.code, shadow.fired, shadow.precision], ['NAME_MISMATCH', 1, null]);
    assert.equal((await evaluateRisk(reader(rows), 1004)).attempts, 3, 'since');
    // Pages smaller than the rows: every row once, in order.
    const ids: string[] = [];
    for await (const a of labelledAttempts(reader(rows), 0, 2)) ids.push(a.notificationId);
    assert.deepEqual(
      ids,
      rows.map((r) => r.notificationId),
    );
  });

  it('backtest: the live settings reproduce the stored levels; a candidate moves attempts, named by id', async () => {
    const rows = [
      stored(1, {}, none),
      stored(2, knowsName, { disposition: null, answer: 'not_recognised' }),
      stored(3, stranger, none),
      { ...stored(4, {}, none), inputs: null },
    ];
    const live = riskSettings({ defaultCountry: 'GB' });
    const candidate = riskSettings({
      defaultCountry: 'GB',
      rules: { CONTACT_MISMATCH: { weight: 15 } },
    });
    const r = await backtestRisk(reader(rows), live, candidate);
    assert.deepEqual([r.attempts, r.labelled, r.skipped, r.drift], [3, 1, 1, 0]);
    assert.deepEqual(r.changed, [{ id: 'n002', from: 'high', to: 'medium' }]);
    assert.deepEqual(r.before.high, { fraud: 1, legitimate: 0, unlabelled: 1 });
    assert.deepEqual(r.after.medium, { fraud: 1, legitimate: 0, unlabelled: 0 });
    // Levels moved and modes: a stricter high threshold, a rule off.
    const strict = await backtestRisk(
      reader(rows),
      live,
      riskSettings({ levels: { medium: 30, high: 90 }, rules: { NAME_MISMATCH: { mode: 'off' } } }),
    );
    assert.deepEqual(
      strict.changed.map((c) => [c.id, c.to]),
      [
        ['n002', 'medium'],
        ['n003', 'medium'],
      ],
    );
    // Stored under other settings than today's: counted as drift, not hidden.
    const drifted = await backtestRisk(reader(rows), candidate, candidate);
    assert.equal(drifted.drift, 1);
    assert.equal(drifted.changed.length, 0);
  });
});
