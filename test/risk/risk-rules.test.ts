import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RISK_CODES } from '../../src/domain/risk-codes.js';
import { DEFAULT_WEIGHTS } from '../../src/risk/default-weights.js';
import { assessRisk, RULES } from '../../src/risk/risk-engine.js';
import { binRangeRule, luhnRule } from '../../src/risk/rules/card-number-rules.js';
import { cardStatusRule } from '../../src/risk/rules/card-status-rule.js';
import { contactRule, emailRule, phoneRule } from '../../src/risk/rules/contact-rules.js';
import {
  disposableEmailRule,
  isDisposableEmail,
} from '../../src/risk/rules/disposable-email-rule.js';
import { nameRule } from '../../src/risk/rules/name-rule.js';
import {
  enrollersRule,
  ringRule,
  velocity7dRule,
  velocity24hRule,
} from '../../src/risk/rules/velocity-rules.js';
import { binInRanges } from '../../src/visa/bin-in-ranges.js';
import { context, holder } from '../support/risk-context.js';

const codes = (hits: { code: string }[]) => hits.map((h) => h.code);
const PERSONAL = /robert|smith|example\.org|7700|@/i;

describe('risk rules', () => {
  it('every code has a default weight and a rule that can emit it', () => {
    const emitted = new Set(RULES.flatMap((r) => r.codes));
    for (const c of RISK_CODES) {
      assert.ok(emitted.has(c), c);
      assert.equal(typeof DEFAULT_WEIGHTS[c], 'number');
    }
  });

  it('card-status: unknown, not active, directory unavailable; nothing for an active card', () => {
    assert.deepEqual(codes(cardStatusRule.evaluate(context())), []);
    assert.deepEqual(codes(cardStatusRule.evaluate(context({ directory: { kind: 'unknown' } }))), [
      'CARD_UNKNOWN',
    ]);
    const blocked = cardStatusRule.evaluate(
      context({ directory: { kind: 'found', cardholder: holder({ status: 'blocked' }) } }),
    );
    assert.deepEqual(blocked, [{ code: 'CARD_NOT_ACTIVE', detail: 'status=blocked' }]);
    const slow = cardStatusRule.evaluate(
      context({ directory: { kind: 'unavailable', reason: 'timeout', elapsedMs: 2000.4 } }),
    );
    assert.deepEqual(slow, [
      { code: 'DIRECTORY_UNAVAILABLE', detail: 'cause=timeout elapsedMs=2000' },
    ]);
  });

  it('name: match, weak match, mismatch; details carry only the similarity', () => {
    assert.deepEqual(
      nameRule.evaluate(context({ attempt: { firstName: 'Bob', lastName: 'SMITH' } })),
      [],
    );
    const weak = nameRule.evaluate(context({ attempt: { firstName: 'Alice', lastName: 'Smith' } }));
    assert.deepEqual(codes(weak), ['NAME_WEAK_MATCH']);
    const other = nameRule.evaluate(
      context({ attempt: { firstName: 'Emma', lastName: 'Garcia' } }),
    );
    assert.deepEqual(codes(other), ['NAME_MISMATCH']);
    assert.match(other[0]!.detail, /^similarity=0\.\d\d$/);
    assert.deepEqual(
      nameRule.evaluate(
        context({
          attempt: { firstName: 'Emma', lastName: 'Garcia' },
          directory: { kind: 'unknown' },
        }),
      ),
      [],
      'nothing to compare',
    );
  });

  it('email: normalised comparison against every email on file', () => {
    assert.deepEqual(
      emailRule.evaluate(context({ attempt: { contactEmail: 'Robert.Smith+ctp@Example.org' } })),
      [],
    );
    const twoOnFile = context({
      attempt: { contactEmail: 'bob@example.net' },
      directory: {
        kind: 'found',
        cardholder: holder({ emails: ['a@example.org', 'bob@example.net'] }),
      },
    });
    assert.deepEqual(emailRule.evaluate(twoOnFile), []);
    assert.deepEqual(
      emailRule.evaluate(context({ attempt: { contactEmail: 'someone@example.net' } })),
      [{ code: 'EMAIL_MISMATCH', detail: 'onFile=1' }],
    );
    assert.deepEqual(
      emailRule.evaluate(
        context({
          attempt: { contactEmail: 'x@example.net' },
          directory: { kind: 'found', cardholder: holder({ emails: [] }) },
        }),
      ),
      [],
    );
  });

  it('phone: E.164 comparison with risk.defaultCountry', () => {
    assert.deepEqual(
      phoneRule.evaluate(context({ attempt: { phoneNumber: '+44(0)7700900123' } })),
      [],
    );
    assert.deepEqual(phoneRule.evaluate(context({ attempt: { phoneNumber: '07700900999' } })), [
      { code: 'PHONE_MISMATCH', detail: 'onFile=1' },
    ]);
    // Without a default country a national number cannot become E.164 and no longer matches.
    assert.deepEqual(codes(phoneRule.evaluate(context({ risk: { defaultCountry: undefined } }))), [
      'PHONE_MISMATCH',
    ]);
    assert.deepEqual(phoneRule.evaluate(context({ attempt: { phoneNumber: null } })), []);
  });

  it('contact: only when neither email nor phone is on file', () => {
    assert.deepEqual(
      contactRule.evaluate(context({ attempt: { contactEmail: 'x@example.net' } })),
      [],
    );
    assert.deepEqual(
      codes(
        contactRule.evaluate(
          context({ attempt: { contactEmail: 'x@example.net', phoneNumber: '07700900999' } }),
        ),
      ),
      ['CONTACT_MISMATCH'],
    );
  });

  it('velocity: 24 h and 7 d attempt counts and distinct enrollers above their limits', () => {
    assert.deepEqual(velocity24hRule.evaluate(context({ history: { attempts24h: 3 } })), []);
    assert.deepEqual(velocity24hRule.evaluate(context({ history: { attempts24h: 4 } })), [
      { code: 'VELOCITY_24H', detail: 'attempts=4 limit=3' },
    ]);
    assert.deepEqual(velocity7dRule.evaluate(context({ history: { attempts7d: 5 } })), []);
    assert.deepEqual(codes(velocity7dRule.evaluate(context({ history: { attempts7d: 6 } }))), [
      'VELOCITY_7D',
    ]);
    assert.deepEqual(enrollersRule.evaluate(context({ history: { enrollers7d: 2 } })), [
      { code: 'MANY_ENROLLERS', detail: 'enrollers=2 limit=1' },
    ]);
    assert.deepEqual(
      velocity24hRule.evaluate(
        context({ history: { attempts24h: 9 }, risk: { velocity: { max24h: 10 } } }),
      ),
      [],
      'limit from config',
    );
  });

  it('ring: one email or phone on more cards than allowed', () => {
    assert.deepEqual(ringRule.evaluate(context({ history: { cardsByEmail: 2 } })), []);
    assert.deepEqual(ringRule.evaluate(context({ history: { cardsByPhone: 4 } })), [
      { code: 'ENROLLER_RING', detail: 'cards=4 via=phone windowDays=30' },
    ]);
  });

  it('disposable email: a maintained list, parent domains included', () => {
    assert.ok(isDisposableEmail('x@mailinator.com'));
    assert.ok(isDisposableEmail('x@sub.mailinator.com'));
    assert.ok(!isDisposableEmail('x@gmail.com'));
    assert.ok(!isDisposableEmail(null));
    assert.deepEqual(
      codes(disposableEmailRule.evaluate(context({ attempt: { contactEmail: 'X@YOPMAIL.com' } }))),
      ['DISPOSABLE_EMAIL'],
    );
  });

  it('luhn and BIN range', () => {
    assert.deepEqual(luhnRule.evaluate(context()), []);
    assert.deepEqual(codes(luhnRule.evaluate(context({ attempt: { panLuhnValid: false } }))), [
      'LUHN_INVALID',
    ]);
    assert.deepEqual(binRangeRule.evaluate(context()), [], 'off without ranges');
    assert.deepEqual(binRangeRule.evaluate(context({ risk: { binRanges: ['4532'] } })), []);
    assert.deepEqual(
      codes(binRangeRule.evaluate(context({ risk: { binRanges: ['400000-409999', '5'] } }))),
      ['BIN_OUT_OF_RANGE'],
    );
    assert.deepEqual(
      binRangeRule.evaluate(context({ risk: { binRanges: ['45320000-45320199'] } })),
      [],
      'longer ranges compare on six digits',
    );
    assert.ok(
      binInRanges('453201', ['453200-453210']) && !binInRanges('453211', ['453200-453210']),
    );
  });

  it('no rule puts personal data in a detail', () => {
    const worst = context({
      attempt: {
        firstName: 'Emma',
        lastName: 'Garcia',
        contactEmail: 'emma@mailinator.com',
        phoneNumber: '07700900999',
        panLuhnValid: false,
      },
      directory: { kind: 'found', cardholder: holder({ status: 'closed' }) },
      history: { attempts24h: 9, attempts7d: 9, enrollers7d: 4, cardsByEmail: 5, cardsByPhone: 5 },
      risk: { binRanges: ['5'] },
    });
    const hits = RULES.flatMap((r) => r.evaluate(worst));
    assert.ok(hits.length >= 10);
    for (const h of hits) assert.doesNotMatch(h.detail, PERSONAL, h.code);
  });
});

describe('risk engine', () => {
  it('sums active weights, caps at 100 and maps levels from config', () => {
    assert.deepEqual(assessRisk(context()), {
      score: 0,
      level: 'low',
      reasons: [],
      shadow: [],
      wouldBe: { score: 0, level: 'low' },
    });
    const newEmail = assessRisk(context({ attempt: { contactEmail: 'x@example.net' } }));
    assert.equal(newEmail.score, DEFAULT_WEIGHTS.EMAIL_MISMATCH);
    assert.equal(newEmail.level, 'low');
    const stranger = assessRisk(
      context({
        attempt: {
          firstName: 'Emma',
          lastName: 'Garcia',
          contactEmail: 'x@example.net',
          phoneNumber: '07700900999',
        },
      }),
    );
    assert.deepEqual(codes(stranger.reasons), [
      'NAME_MISMATCH',
      'EMAIL_MISMATCH',
      'PHONE_MISMATCH',
      'CONTACT_MISMATCH',
    ]);
    assert.equal(stranger.score, 100, '40 + 15 + 15 + 40, capped');
    assert.equal(stranger.level, 'high');
    // The card's real name, the enroller's own email and phone: Click to Pay's one-time codes
    // would go to them. High by default (it was medium when CONTACT_MISMATCH weighed 15).
    const knowsName = assessRisk(
      context({ attempt: { contactEmail: 'x@example.net', phoneNumber: '07700900999' } }),
    );
    assert.deepEqual(codes(knowsName.reasons), [
      'EMAIL_MISMATCH',
      'PHONE_MISMATCH',
      'CONTACT_MISMATCH',
    ]);
    assert.deepEqual([knowsName.score, knowsName.level], [70, 'high']);
    const phoneOnly = assessRisk(context({ attempt: { phoneNumber: '07700900999' } }));
    assert.deepEqual([phoneOnly.score, phoneOnly.level], [15, 'low'], 'one new contact stays low');
    const capped = assessRisk(
      context({ directory: { kind: 'unknown' }, attempt: { panLuhnValid: false } }),
    );
    assert.equal(capped.score, 100);
    const tuned = assessRisk(
      context({
        attempt: { contactEmail: 'x@example.net' },
        risk: { rules: { EMAIL_MISMATCH: { weight: 35 } }, levels: { medium: 30, high: 90 } },
      }),
    );
    assert.deepEqual([tuned.score, tuned.level], [35, 'medium']);
  });

  it('shadow mode: scored and reported with its would-be effect, not counted; off: not reported', () => {
    const ctx = context({
      attempt: { firstName: 'Emma', lastName: 'Garcia' },
      risk: { rules: { NAME_MISMATCH: { mode: 'shadow' } } },
    });
    const r = assessRisk(ctx);
    assert.deepEqual([r.score, r.level, r.reasons.length], [0, 'low', 0]);
    assert.deepEqual(
      r.shadow.map((s) => [s.code, s.points]),
      [['NAME_MISMATCH', 40]],
    );
    assert.deepEqual(r.wouldBe, { score: 40, level: 'medium' });
    const off = assessRisk(
      context({
        attempt: { firstName: 'Emma', lastName: 'Garcia' },
        risk: { rules: { NAME_MISMATCH: { mode: 'off' } } },
      }),
    );
    assert.deepEqual([off.score, off.reasons.length, off.shadow.length], [0, 0, 0]);
  });
});
