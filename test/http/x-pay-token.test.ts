import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkXPayToken } from '../../src/pipeline/authenticate.js';
import { xPayToken } from '../../src/visa/visa-encoder.js';

describe('X-Pay-Token', () => {
  const secret = 'shared-secret-from-visa-0001';
  const path = 'vtis/v1/tokenRequestors/40010030273/cardEnrollment/notification';
  const query = 'eventType=CTP_ENROLLMENT_ATTEMPT';
  const body = '{"encryptedData":"x"}';
  const check = (token: string | undefined, now: number, b = body) =>
    checkXPayToken(token, Buffer.from(secret), path, query, Buffer.from(b), now, 300);

  it("matches Visa's published construction: xv2:ts:hex(HMAC-SHA256(ts + path + query + body))", () => {
    const ts = 1764072000;
    const expected = createHmac('sha256', secret)
      .update(`${ts}${path}${query}${body}`)
      .digest('hex');
    assert.equal(xPayToken(secret, path, query, body, ts), `xv2:${ts}:${expected}`);
    assert.doesNotThrow(() => check(`xv2:${ts}:${expected}`, ts + 299));
    assert.doesNotThrow(
      () => check(`xv2:${ts}:${expected.toUpperCase()}`, ts),
      'hex case does not matter',
    );
  });

  it('refuses missing, malformed, wrong, other-body and stale tokens with distinct codes', () => {
    const ts = 1764072000;
    const good = xPayToken(secret, path, query, body, ts);
    assert.throws(() => check(undefined, ts), { code: 'X_PAY_TOKEN_MISSING' });
    assert.throws(() => check('xv1:1:ab', ts), { code: 'X_PAY_TOKEN_INVALID' });
    assert.throws(
      () =>
        check(
          good.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
          ts,
        ),
      { code: 'X_PAY_TOKEN_INVALID' },
    );
    assert.throws(() => check(good, ts, '{"encryptedData":"y"}'), { code: 'X_PAY_TOKEN_INVALID' });
    assert.throws(() => check(good, ts + 301), { code: 'X_PAY_TOKEN_STALE' });
    assert.throws(() => check(good, ts - 301), { code: 'X_PAY_TOKEN_STALE' });
  });

  // clockSkewSeconds is the "largest accepted difference" (config schema), so the limit itself is
  // inside. The clock is the check's `nowSeconds` argument: no waiting on the real one.
  for (const skew of [0, 1, 120, 300]) {
    it(`clockSkewSeconds ${skew}: a token exactly ${skew} s old or ahead is accepted, one second more is stale`, () => {
      const ts = 1764072000;
      const token = xPayToken(secret, path, query, body, ts);
      const at = (now: number) =>
        checkXPayToken(token, Buffer.from(secret), path, query, Buffer.from(body), now, skew);
      assert.doesNotThrow(() => at(ts + skew), `${skew} s old`);
      assert.doesNotThrow(() => at(ts - skew), `${skew} s ahead`);
      assert.throws(() => at(ts + skew + 1), { code: 'X_PAY_TOKEN_STALE' }, `${skew + 1} s old`);
      assert.throws(() => at(ts - skew - 1), { code: 'X_PAY_TOKEN_STALE' }, `${skew + 1} s ahead`);
    });
  }
});
