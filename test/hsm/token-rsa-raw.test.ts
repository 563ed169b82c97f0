import assert from 'node:assert/strict';
import {
  constants,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  randomInt,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HsmToken } from '../../src/hsm/hsm-token.js';
import { openTokenKey, type TokenDecryptionKey } from '../../src/hsm/token-decryption-key.js';
import { encodeOaep, FAULT_FIELDS, type Fault, rawEncrypt } from '../support/oaep-encoding.js';
import { softHsmMissing, testToken } from '../support/softhsm.js';

/*
 * The rsa-raw path end to end: CKM_RSA_X_509 in SoftHSM, then the service's OAEP decoding, on a
 * few hundred valid and corrupted ciphertexts, against OpenSSL's RSAES-OAEP-DECRYPT with the
 * same key in memory (test/hsm/rsa-oaep-decode.test.ts covers the decoding itself on thousands).
 */

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;
const LABEL = 'issuer-raw';
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const k = 256;
const n = Buffer.from(pair.publicKey.export({ format: 'jwk' }).n as string, 'base64url');
const maxM = k - 2 * 32 - 2;

function corpus(): { kind: string; c: Buffer }[] {
  const out: { kind: string; c: Buffer }[] = [];
  const add = (kind: string, c: Buffer) => out.push({ kind, c });
  const oaep = (m: Buffer, o: { oaepHash?: string; oaepLabel?: Buffer } = {}) =>
    publicEncrypt({ key: pair.publicKey, ...OAEP, ...o }, m);
  const valid: Buffer[] = [];
  for (const len of [
    0,
    1,
    31,
    32,
    maxM - 1,
    maxM,
    ...Array.from({ length: 34 }, () => randomInt(maxM + 1)),
  ]) {
    const c = oaep(randomBytes(len));
    valid.push(c);
    add('valid', c);
  }
  const pick = () => Buffer.from(valid[randomInt(valid.length)] as Buffer);
  for (let i = 0; i < 50; i++) {
    const c = pick();
    const at = randomInt(k);
    c[at] = (c[at] as number) ^ (1 << randomInt(8));
    add('bit flip', c);
  }
  for (let i = 0; i < 20; i++) {
    const c = randomBytes(k);
    c[0] = randomInt(n[0] as number);
    add('random below n', c);
  }
  for (const field of FAULT_FIELDS)
    for (let i = 0; i < 12; i++) {
      const fault: Fault =
        field === 'Y'
          ? { field, value: 1 + randomInt((n[0] as number) - 1) }
          : field === 'lHash'
            ? { field, at: randomInt(32) }
            : field === 'PS'
              ? { field, at: randomInt(k), value: 2 + randomInt(254) }
              : { field, value: 2 + randomInt(254) };
      add(
        `${field} wrong`,
        rawEncrypt(pair.publicKey, encodeOaep(k, randomBytes(randomInt(maxM)), { fault })),
      );
    }
  for (let i = 0; i < 10; i++) {
    add('label', oaep(randomBytes(20), { oaepLabel: randomBytes(8) }));
    add('SHA-1 OAEP', oaep(randomBytes(20), { oaepHash: 'sha1' }));
    add(
      'PKCS#1 v1.5',
      publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_PADDING }, randomBytes(20)),
    );
  }
  const nMinus1 = Buffer.from(n);
  nMinus1[k - 1] = (nMinus1[k - 1] as number) - 1;
  const one = Buffer.alloc(k);
  one[k - 1] = 1;
  for (const c of [Buffer.alloc(k), one, nMinus1]) add('degenerate', c);
  // k bytes but not below n: RSADP's "ciphertext representative out of range" (RFC 8017 §5.1.2).
  for (const c of [Buffer.from(n), Buffer.alloc(k, 0xff)]) add('not below n', c);
  for (let i = 0; i < 5; i++) {
    add('truncated', pick().subarray(0, k - 1));
    add('over-long', Buffer.concat([pick(), Buffer.alloc(1)]));
  }
  for (let found = 0; found < 2; ) {
    const c = oaep(randomBytes(16));
    if (c[0] !== 0) continue;
    add('leading zero dropped', c.subarray(1));
    found++;
  }
  return out;
}

function oracle(c: Buffer): Buffer | undefined {
  try {
    return privateDecrypt({ key: pair.privateKey, ...OAEP }, c);
  } catch {
    return undefined;
  }
}

const missing = softHsmMissing();

describe('rsa-raw through SoftHSM: TokenDecryptionKey against OpenSSL', { skip: missing }, () => {
  let token: HsmToken;
  let key: TokenDecryptionKey;

  before(() => {
    const t = testToken();
    t.importKey(LABEL, pair.privateKey);
    token = HsmToken.open({
      module: t.module,
      token: t.label,
      pin: t.pin,
      pinField: '/hsm/pin/file',
      sessions: 4,
    });
    key = openTokenKey(token, { label: LABEL, mechanism: 'rsa-raw' }, '/keys/decryption/0/hsm');
  });
  after(() => token?.close());

  it('unwraps every k-byte ciphertext as privateDecrypt does, on and off the event loop', async (t) => {
    assert.equal(key.mechanism, 'rsa-raw');
    const entries = corpus().filter((e) => e.c.length === k);
    const async = await Promise.all(entries.map((e) => key.unwrapCek(e.c)));
    let accepted = 0;
    entries.forEach((e, i) => {
      const want = oracle(e.c);
      if (want) accepted++;
      assert.deepEqual(key.unwrapSync(e.c), want, `${e.kind}, sync`);
      assert.deepEqual(async[i], want, `${e.kind}, async`);
    });
    t.diagnostic(`${entries.length} ciphertexts, ${accepted} valid`);
    assert.ok(
      accepted >= 40 && entries.length - accepted >= 150,
      `${accepted} valid of ${entries.length}`,
    );
    // Not one of them was taken for a token fault.
    assert.equal(token.healthy, true);
    assert.equal(token.lastFault, '');
  });

  it('refuses any other length before the token, where OpenSSL takes the integer', async () => {
    const entries = corpus().filter((e) => e.c.length !== k);
    assert.ok(entries.length >= 12);
    for (const e of entries) {
      assert.equal(key.unwrapSync(e.c), undefined, e.kind);
      assert.equal(await key.unwrapCek(e.c), undefined, e.kind);
      // RFC 8017 §7.1.2 step 1.b: a ciphertext is k bytes. OpenSSL reads a shorter one as the
      // integer it spells, so a valid ciphertext with its leading zero byte dropped decrypts.
      if (e.kind === 'leading zero dropped') assert.notEqual(oracle(e.c), undefined);
      else assert.equal(oracle(e.c), undefined, e.kind);
    }
    assert.equal(token.healthy, true);
  });
});
