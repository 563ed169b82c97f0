import assert from 'node:assert/strict';
import {
  constants,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  randomInt,
} from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeRsaOaepSha256 } from '../../src/hsm/rsa-oaep-decode.js';
import { runs } from '../support/hostile-checks.js';
import {
  encodeOaep,
  FAULT_FIELDS,
  type Fault,
  rawEncrypt,
  referenceDecode,
  type Skip,
} from '../support/oaep-encoding.js';

/*
 * decodeRsaOaepSha256 (the OAEP decoding the service does after a token's raw RSA operation,
 * mechanism "rsa-raw") against OpenSSL's RSAES-OAEP-DECRYPT as the oracle: for every ciphertext c
 * of the corpus, em = RSADP(c) with no padding (what CKM_RSA_X_509 returns) and our decoding of
 * em must equal privateDecrypt(OAEP, SHA-256) of c: the same bytes, or both failures.
 *
 * The corpus: valid ciphertexts of every message length, then corruptions of every kind a sender
 * or an attacker can make: bit flips, random integers below n, degenerate values, encodings
 * built by hand with exactly one field wrong (Y, lHash, a PS byte, the 0x01 separator), other
 * labels, SHA-1 OAEP, PKCS#1 v1.5, truncated and over-long ciphertexts. A plain decoder with one
 * check left out (test/support/oaep-encoding.ts) must disagree with the oracle on it: the corpus
 * would catch a decoder missing any of the four checks.
 */

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;
const H = 32;

interface Entry {
  kind: string;
  c: Buffer;
  /** For encodings made with one field wrong: which, and the message the mutant recovers. */
  fault?: Fault['field'];
  message?: Buffer;
}

interface Outcome {
  entry: Entry;
  /** RSADP(c), or undefined when c is not below n (RSADP refuses). */
  em: Buffer | undefined;
  oracle: Buffer | undefined;
  ours: Buffer | undefined;
}

interface TestKey {
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  k: number;
  n: Buffer;
}

function testKey(bits: number): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const n = Buffer.from(publicKey.export({ format: 'jwk' }).n as string, 'base64url');
  return { name: `RSA-${bits}`, privateKey, publicKey, k: bits / 8, n };
}

const oaepEncrypt = (key: TestKey, m: Buffer, o: { hash?: string; label?: Buffer } = {}) =>
  publicEncrypt(
    {
      key: key.publicKey,
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: o.hash ?? 'sha256',
      ...(o.label ? { oaepLabel: o.label } : {}),
    },
    m,
  );

/** A message of `length` bytes with no 0x01 in it (see the `separator` fault). */
const withoutOnes = (length: number) =>
  Buffer.from(randomBytes(length).map((b) => (b === 1 ? 2 : b)));

/** `scale` 1 for RSA-2048; fewer for RSA-3072, whose private operation costs about 3 times more. */
function corpus(key: TestKey, scale: number): Entry[] {
  const { k, n } = key;
  const maxM = k - 2 * H - 2;
  const times = (count: number) => Array.from({ length: Math.max(1, Math.round(count * scale)) });
  const out: Entry[] = [];
  const valid: Buffer[] = [];
  const add = (kind: string, c: Buffer, extra: Partial<Entry> = {}) =>
    out.push({ kind, c, ...extra });

  // Valid: every message length 0..k-2hLen-2, and messages that look like padding.
  const copies = scale >= 1 ? 3 : 1;
  for (let len = 0; len <= maxM; len++)
    for (let i = 0; i < copies; i++) {
      const c = oaepEncrypt(key, randomBytes(len));
      valid.push(c);
      add('valid', c);
    }
  for (const m of [
    Buffer.alloc(maxM),
    Buffer.alloc(maxM, 1),
    Buffer.from([0]),
    Buffer.from([1]),
    Buffer.from([0, 1, 0]),
    Buffer.from([1, 1, 1]),
    Buffer.concat([Buffer.from([1]), Buffer.alloc(maxM - 1)]),
  ])
    add('valid', oaepEncrypt(key, m));

  // A bit flipped anywhere in a valid ciphertext (first and last bytes included).
  const pick = () => valid[randomInt(valid.length)] as Buffer;
  const flipped = (at: number, bit: number) => {
    const c = Buffer.from(pick());
    c[at] = (c[at] as number) ^ (1 << bit);
    return c;
  };
  for (const _ of times(1500)) add('bit flip', flipped(randomInt(k), randomInt(8)));
  for (const at of [0, 1, k - 1]) add('bit flip', flipped(at, 0));

  // Random integers below n, as ciphertexts (em random too).
  for (const _ of times(300)) {
    const c = randomBytes(k);
    c[0] = randomInt(n[0] as number);
    add('random below n', c);
  }

  // Degenerate integers: 0, 1, 2, n-1 (RSADP gives n-1 back), n and above (RSADP refuses).
  const nMinus1 = Buffer.from(n);
  nMinus1[k - 1] = (nMinus1[k - 1] as number) - 1; // n is odd
  const one = Buffer.alloc(k);
  one[k - 1] = 1;
  const two = Buffer.alloc(k);
  two[k - 1] = 2;
  for (const c of [Buffer.alloc(k), one, two, nMinus1, Buffer.from(n), Buffer.alloc(k, 0xff)])
    add('degenerate', c);

  // Encodings made by hand with exactly one field wrong, then raised to e: em is known.
  for (const field of FAULT_FIELDS)
    for (const _ of times(150)) {
      let fault: Fault;
      let message: Buffer;
      if (field === 'Y') {
        // Any first byte below n's keeps em < n, so RSA can carry it.
        const top = n[0] as number;
        const value = [1, top - 1][randomInt(4)] ?? 1 + randomInt(top - 1);
        fault = { field, value };
        message = randomBytes(randomInt(maxM + 1));
      } else if (field === 'lHash') {
        fault = { field, at: randomInt(H) };
        message = randomBytes(randomInt(maxM + 1));
      } else if (field === 'PS') {
        fault = { field, at: randomInt(k), value: 2 + randomInt(254) };
        message = randomBytes(randomInt(maxM)); // PS at least one byte
      } else {
        const value = [0, 0, 2, 0x80, 0xff][randomInt(5)] as number;
        fault = { field, value };
        message = value === 0 ? withoutOnes(randomInt(maxM + 1)) : randomBytes(randomInt(maxM + 1));
      }
      add(
        `one field wrong: ${field}`,
        rawEncrypt(key.publicKey, encodeOaep(k, message, { fault })),
        {
          fault: field,
          message,
        },
      );
    }
  // DB = lHash || 00…00: no separator at all.
  add(
    'no separator',
    rawEncrypt(
      key.publicKey,
      encodeOaep(k, Buffer.alloc(0), { fault: { field: 'separator', value: 0 } }),
    ),
  );

  // Other OAEP parameters, and the other RSA encryption scheme.
  for (const _ of times(100)) {
    const m = randomBytes(randomInt(maxM + 1));
    add('OAEP with a label', oaepEncrypt(key, m, { label: randomBytes(1 + randomInt(16)) }));
    add('OAEP SHA-1', oaepEncrypt(key, randomBytes(randomInt(k - 2 * 20 - 1)), { hash: 'sha1' }));
    add(
      'PKCS#1 v1.5',
      publicEncrypt(
        { key: key.publicKey, padding: constants.RSA_PKCS1_PADDING },
        randomBytes(randomInt(k - 10)),
      ),
    );
    // SHA-256 label hash with MGF1-SHA-1: only the mask generation is wrong.
    add(
      'OAEP SHA-1 encoder',
      rawEncrypt(key.publicKey, encodeOaep(k, randomBytes(randomInt(k - 42)), { hash: 'sha1' })),
    );
  }

  // Wrong lengths: the last byte dropped, a byte added, a leading zero dropped (the same integer).
  for (const _ of times(50)) {
    const c = pick();
    add('truncated', c.subarray(0, k - 1));
    add('over-long', Buffer.concat([c, randomBytes(1)]));
    add('over-long', Buffer.concat([Buffer.alloc(1), c]));
  }
  for (let found = 0, tries = 0; found < Math.max(4, 20 * scale) && tries < 50_000; tries++) {
    const c = oaepEncrypt(key, randomBytes(16));
    if (c[0] !== 0) continue;
    add('leading zero dropped', c.subarray(1));
    found++;
  }
  add('empty', Buffer.alloc(0));
  return out;
}

function run(key: TestKey, entries: Entry[]): Outcome[] {
  return entries.map((entry) => {
    let em: Buffer | undefined;
    try {
      em = privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, entry.c);
    } catch {
      em = undefined;
    }
    let oracle: Buffer | undefined;
    try {
      oracle = privateDecrypt({ key: key.privateKey, ...OAEP }, entry.c);
    } catch {
      oracle = undefined;
    }
    return { entry, em, oracle, ours: em === undefined ? undefined : decodeRsaOaepSha256(em) };
  });
}

const show = (b: Buffer | undefined) => (b === undefined ? 'failure' : `${b.length} bytes`);

for (const [bits, scale] of [
  [2048, 1],
  [3072, 0.3],
] as const) {
  describe(`decodeRsaOaepSha256 against OpenSSL's OAEP decryption, RSA-${bits}`, () => {
    const key = testKey(bits);
    const outcomes = run(key, corpus(key, scale));

    it('decodes every RSADP output of the corpus as OpenSSL decrypts its ciphertext', (t) => {
      const kinds = new Map<string, { total: number; accepted: number }>();
      for (const o of outcomes) {
        const s = kinds.get(o.entry.kind) ?? { total: 0, accepted: 0 };
        s.total++;
        if (o.oracle !== undefined) s.accepted++;
        kinds.set(o.entry.kind, s);
        if (o.em === undefined) {
          // c ≥ n or longer than k: neither RSADP nor the oracle takes it.
          assert.equal(o.oracle, undefined, `${o.entry.kind}: the oracle took what RSADP refused`);
          continue;
        }
        assert.equal(o.em.length, key.k);
        assert.deepEqual(
          o.ours,
          o.oracle,
          `${o.entry.kind} (c of ${o.entry.c.length} bytes): ours ${show(o.ours)}, oracle ${show(o.oracle)}`,
        );
      }
      t.diagnostic(
        `${outcomes.length} ciphertexts: ${[...kinds].map(([k, s]) => `${k} ${s.total} (${s.accepted} valid)`).join(', ')}`,
      );
      const valid = outcomes.filter((o) => o.oracle !== undefined).length;
      assert.ok(valid >= (key.k - 2 * H - 1) * (bits === 2048 ? 3 : 1), `valid: ${valid}`);
      assert.ok(outcomes.length - valid >= 1000 * scale, `invalid: ${outcomes.length - valid}`);
      // Every message length class was decoded, from empty to the longest.
      const lengths = new Set(outcomes.flatMap((o) => (o.ours ? [o.ours.length] : [])));
      for (let len = 0; len <= key.k - 2 * H - 2; len++)
        assert.ok(lengths.has(len), `length ${len}`);
    });

    it('holds, for each field, encodings wrong in that field alone', () => {
      for (const field of FAULT_FIELDS) {
        const targeted = outcomes.filter((o) => o.entry.fault === field);
        assert.ok(targeted.length >= 150 * scale, `${field}: ${targeted.length}`);
        for (const o of targeted) {
          assert.equal(o.oracle, undefined, `the oracle accepted an encoding with ${field} wrong`);
          assert.equal(o.ours, undefined);
          // Only that field is wrong: a decoder skipping its check recovers a message.
          const mutant = referenceDecode(o.em as Buffer, field);
          assert.notEqual(mutant, undefined, `${field}: more than one field is wrong`);
          if (field !== 'separator') assert.deepEqual(mutant, o.entry.message);
        }
      }
    });

    it('would catch a decoder that skips any one check', () => {
      const decoded = outcomes.filter((o) => o.em !== undefined);
      // The plain decoder itself agrees with the oracle everywhere...
      for (const o of decoded) assert.deepEqual(referenceDecode(o.em as Buffer), o.oracle);
      // ...and each mutant disagrees on some of the corpus.
      const skips: Skip[] = ['Y', 'lHash', 'PS', 'separator'];
      for (const skip of skips) {
        const caught = decoded.filter(
          (o) => referenceDecode(o.em as Buffer, skip) !== undefined && o.oracle === undefined,
        ).length;
        assert.ok(caught >= 100 * scale, `a decoder skipping ${skip} is caught ${caught} times`);
      }
    });
  });
}

describe('decodeRsaOaepSha256: one failure shape', () => {
  const key = testKey(2048);

  it('returns undefined or a Buffer on arbitrary input, and never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const em = Buffer.from(bytes);
        const out = decodeRsaOaepSha256(em);
        assert.ok(out === undefined || Buffer.isBuffer(out));
        // Short input cannot hold an encoding; long or short, the plain decoder agrees.
        if (em.length < 2 * H + 2) assert.equal(out, undefined);
        assert.deepEqual(out, referenceDecode(em));
      }),
      { numRuns: runs(3000) },
    );
  });

  it('agrees with the plain decoder on mostly valid encodings of any size', () => {
    // Random bytes are almost never valid: these start valid and are then disturbed.
    fc.assert(
      fc.property(
        fc.integer({ min: 66, max: 600 }),
        fc.nat(),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { freq: 2 }),
        (k, len, change) => {
          const em = encodeOaep(k, randomBytes(len % (k - 2 * H - 1)));
          if (change) em[change[0] % k] = change[1];
          assert.deepEqual(decodeRsaOaepSha256(em), referenceDecode(em));
        },
      ),
      { numRuns: runs(3000) },
    );
  });

  it('refuses a first byte other than zero, whatever its value', () => {
    for (let y = 1; y < 256; y++) {
      const em = encodeOaep(256, randomBytes(20), { fault: { field: 'Y', value: y } });
      assert.equal(decodeRsaOaepSha256(em), undefined, `Y = ${y}`);
    }
  });

  it('matches the oracle on generated single-field faults through RSA', () => {
    const maxM = key.k - 2 * H - 2;
    const faultArb: fc.Arbitrary<Fault | undefined> = fc.oneof(
      fc.constant(undefined),
      fc
        .integer({ min: 1, max: (key.n[0] as number) - 1 })
        .map((value) => ({ field: 'Y' as const, value })),
      fc.nat({ max: H - 1 }).map((at) => ({ field: 'lHash' as const, at })),
      fc
        .tuple(fc.nat(), fc.integer({ min: 2, max: 255 }))
        .map(([at, value]) => ({ field: 'PS' as const, at, value })),
      fc.integer({ min: 2, max: 255 }).map((value) => ({ field: 'separator' as const, value })),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: maxM - 1 }), faultArb, (m, fault) => {
        const em = encodeOaep(key.k, Buffer.from(m), fault ? { fault } : {});
        const c = rawEncrypt(key.publicKey, em);
        let oracle: Buffer | undefined;
        try {
          oracle = privateDecrypt({ key: key.privateKey, ...OAEP }, c);
        } catch {
          oracle = undefined;
        }
        assert.deepEqual(decodeRsaOaepSha256(em), oracle);
        assert.equal(oracle === undefined, fault !== undefined);
      }),
      { numRuns: runs(400) },
    );
  });
});
