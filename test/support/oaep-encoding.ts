import { constants, createHash, type KeyObject, publicEncrypt, randomBytes } from 'node:crypto';

/*
 * A plain, branchy EME-OAEP encoder and decoder (RFC 8017 §7.1.1 step 2, §7.1.2 step 3) for the
 * tests of the service's constant-time decoder: the encoder can get one field wrong on purpose,
 * before masking, so that a test knows an encoding is invalid for exactly one reason; the decoder
 * can skip one check, so that a test can show its corpus would catch a decoder missing it.
 */

export type Hash = 'sha256' | 'sha1';
const hLenOf = (hash: Hash) => (hash === 'sha256' ? 32 : 20);

export function mgf1(hash: Hash, seed: Buffer, length: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0, got = 0; got < length; i++, got += hLenOf(hash)) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(i, 0);
    parts.push(createHash(hash).update(seed).update(counter).digest());
  }
  return Buffer.concat(parts).subarray(0, length);
}

const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((x, i) => x ^ (b[i] as number)));

/** One field of the encoding made wrong (each alone makes it invalid). */
export type Fault =
  | { field: 'Y'; value: number }
  | { field: 'lHash'; at: number }
  | { field: 'PS'; at: number; value: number }
  | { field: 'separator'; value: number };

export const FAULT_FIELDS = ['Y', 'lHash', 'PS', 'separator'] as const;

export interface EncodeOptions {
  /** Hash and MGF1 hash (default sha256). */
  hash?: Hash;
  label?: Buffer;
  fault?: Fault;
  seed?: Buffer;
}

/**
 * EM = Y || maskedSeed || maskedDB with DB = lHash || PS || 0x01 || M, k bytes. With a fault:
 * `Y` sets the first byte; `lHash` flips a bit of lHash; `PS` sets a padding byte (`at` counts
 * into PS, which must be non-empty) to `value` (not 0, not 1); `separator` sets the 0x01 to
 * `value` (not 1; with 0, M must hold no 0x01, or the encoding is valid for a shorter M).
 */
export function encodeOaep(k: number, message: Buffer, o: EncodeOptions = {}): Buffer {
  const hash = o.hash ?? 'sha256';
  const hLen = hLenOf(hash);
  const psLength = k - message.length - 2 * hLen - 2;
  if (psLength < 0) throw new Error('message too long');
  const lHash = createHash(hash)
    .update(o.label ?? Buffer.alloc(0))
    .digest();
  const ps = Buffer.alloc(psLength);
  const separator = Buffer.from([1]);
  const f = o.fault;
  if (f?.field === 'lHash') lHash[f.at % hLen] = (lHash[f.at % hLen] as number) ^ 0x40;
  if (f?.field === 'PS') {
    if (psLength === 0) throw new Error('no PS to corrupt');
    ps[f.at % psLength] = f.value;
  }
  if (f?.field === 'separator') separator[0] = f.value;
  const db = Buffer.concat([lHash, ps, separator, message]);
  const seed = o.seed ?? randomBytes(hLen);
  const maskedDb = xor(db, mgf1(hash, seed, db.length));
  const maskedSeed = xor(seed, mgf1(hash, maskedDb, hLen));
  return Buffer.concat([Buffer.from([f?.field === 'Y' ? f.value : 0]), maskedSeed, maskedDb]);
}

/** The check a {@link referenceDecode} mutant leaves out. */
export type Skip = 'Y' | 'lHash' | 'PS' | 'separator';

/**
 * EME-OAEP decoding, SHA-256 and the empty label, written as RFC 8017 §7.1.2 step 3 reads, not
 * in constant time. `skip` leaves one check out, the way a broken decoder would: `Y` ignores the
 * first byte; `lHash` the label hash; `PS` any non-zero byte before the first 0x01; `separator`
 * takes the first non-zero byte after lHash as the separator, whatever its value (and an empty
 * M when there is none).
 */
export function referenceDecode(em: Buffer, skip?: Skip): Buffer | undefined {
  const hLen = 32;
  const k = em.length;
  if (k < 2 * hLen + 2) return undefined;
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seed = xor(maskedSeed, mgf1('sha256', maskedDb, hLen));
  const db = xor(maskedDb, mgf1('sha256', seed, maskedDb.length));
  if (skip !== 'Y' && em[0] !== 0) return undefined;
  const lHash = createHash('sha256').digest();
  if (skip !== 'lHash' && !db.subarray(0, hLen).equals(lHash)) return undefined;
  let i = hLen;
  if (skip === 'PS') {
    while (i < db.length && db[i] !== 1) i++;
  } else if (skip === 'separator') {
    while (i < db.length && db[i] === 0) i++;
    if (i === db.length) return Buffer.alloc(0);
  } else {
    while (i < db.length && db[i] === 0) i++;
    if (db[i] !== 1) return undefined;
  }
  if (i === db.length) return undefined;
  return Buffer.from(db.subarray(i + 1));
}

/** c = em^e mod n: the ciphertext whose raw RSA decryption is `em` (which must be < n). */
export function rawEncrypt(publicKey: KeyObject, em: Buffer): Buffer {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, em);
}
