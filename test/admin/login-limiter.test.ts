import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginLimiter } from '../../src/admin/login-limiter.js';

const MINUTE = 60_000;

describe('sign-in lock-out (PCI DSS 8.3.4)', () => {
  it('after 10 failures, however slow, the name waits 30 minutes from the last one', () => {
    let t = 0;
    const limiter = new LoginLimiter(10, 30 * MINUTE, () => t);
    for (let i = 0; i < 10; i++) {
      assert.equal(limiter.attempt('ana', `10.0.0.${i}`).allowed, true, `failure ${i + 1}`);
      t += 3 * MINUTE; // ten failures over 27 minutes
    }
    t -= 3 * MINUTE; // at the tenth
    const locked = limiter.attempt('ana', '10.0.0.99');
    assert.equal(locked.allowed, false);
    assert.equal(locked.allowed === false && locked.retryAfterSeconds, 30 * 60);
    t += 29 * MINUTE;
    assert.equal(limiter.attempt('ana', '10.0.0.99').allowed, false, 'still locked at 29 minutes');
    t += MINUTE + 1;
    assert.equal(limiter.attempt('ana', '10.0.0.99').allowed, true, 'open again after 30');
  });

  it('a right password clears the name, not the other names', () => {
    const t = 0;
    const limiter = new LoginLimiter(2, 30 * MINUTE, () => t);
    limiter.attempt('ana', 'a');
    const ok = limiter.attempt('ana', 'a');
    assert.ok(ok.allowed);
    if (ok.allowed) ok.succeeded();
    assert.equal(limiter.attempt('ana', 'b').allowed, true);
    limiter.attempt('bob', 'c');
    limiter.attempt('bob', 'c');
    assert.equal(limiter.attempt('bob', 'd').allowed, false);
  });
});
