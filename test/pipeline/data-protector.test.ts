import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DataProtector, luhnValid } from '../../src/protect/data-protector.js';

describe('DataProtector', () => {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };
  const fp = randomBytes(32);

  it('encrypts card numbers under the active key, bound to their row, with BIN, last four and Luhn flag', () => {
    const dp = new DataProtector([k1], fp);
    const p = dp.protectPan('4111111111111111', 'row-a');
    assert.equal(p.bin, '411111');
    assert.equal(p.last4, '1111');
    assert.equal(p.luhnValid, true);
    assert.equal(p.keyId, 'k1');
    assert.ok(!p.ciphertext.includes(Buffer.from('4111111111111111')));
    assert.equal(dp.decrypt('k1', p.ciphertext, 'row-a').toString(), '4111111111111111');
    assert.throws(
      () => dp.decrypt('k1', p.ciphertext, 'row-b'),
      'a ciphertext moved to another row does not decrypt',
    );
  });

  it('rotation: new rows use the first key, old rows stay readable, fingerprints do not change', () => {
    const old = new DataProtector([k1], fp);
    const rotated = new DataProtector([k2, k1], fp);
    const before = old.protectPan('5500000000000004', 'r');
    const after = rotated.protectPan('5500000000000004', 'r');
    assert.equal(after.keyId, 'k2');
    assert.equal(
      rotated.decrypt(before.keyId, before.ciphertext, 'r').toString(),
      '5500000000000004',
    );
    assert.equal(before.fingerprint, after.fingerprint);
    assert.throws(
      () => new DataProtector([k2], fp).decrypt('k1', before.ciphertext, 'r'),
      /not configured/,
    );
  });

  it('fingerprints are keyed: another key gives another fingerprint', () => {
    assert.notEqual(
      new DataProtector([k1], fp).fingerprint('4111111111111111'),
      new DataProtector([k1], randomBytes(32)).fingerprint('4111111111111111'),
    );
  });

  it('Luhn agrees with the textbook definition on random digit strings', () => {
    const reference = (s: string) => {
      const sum = [...s]
        .reverse()
        .map(Number)
        .reduce((acc, d, i) => acc + (i % 2 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d), 0);
      return sum % 10 === 0;
    };
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{12,19}$/), (s) => luhnValid(s) === reference(s)),
      { numRuns: 2000 },
    );
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(luhnValid('41111a1111111111'), false);
  });
});
