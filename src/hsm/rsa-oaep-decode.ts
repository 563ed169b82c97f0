import { createHash } from 'node:crypto';

const H_LEN = 32;
/** lHash for the empty label, the only label JWE uses (RFC 7518 §4.3). */
const EMPTY_LABEL_HASH = createHash('sha256').digest();

/** MGF1 with SHA-256 (RFC 8017 §B.2.1): `length` bytes from `seed`. */
function mgf1(seed: Buffer, length: number): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil(length / H_LEN) * H_LEN);
  const counter = Buffer.alloc(4);
  for (let i = 0, off = 0; off < length; i++, off += H_LEN) {
    counter.writeUInt32BE(i, 0);
    createHash('sha256').update(seed).update(counter).digest().copy(out, off);
  }
  return out.subarray(0, length);
}

/** 1 when `x` is 0, else 0; `x` in 0..255. No branch. */
const isZero = (x: number): number => ((x - 1) >>> 31) & 1;

/**
 * EME-OAEP decoding with SHA-256, MGF1-SHA-256 and the empty label (RFC 8017 §7.1.2 step 3), for
 * the output of a raw RSA decryption (`CKM_RSA_X_509`): `em` is the k-byte big-endian integer
 * m = c^d mod n.
 *
 * RFC 8017 §7.1.2 (Note) asks that an opponent not learn which check failed (Manger's attack):
 * every byte is read and combined with bitwise arithmetic, the checks (Y = 0, lHash, the 0x01
 * separator after the zero padding) fold into one flag, and the only branch on secret data is the
 * final one on that flag. Failure has one shape: `undefined`, never an error or a reason.
 *
 * @returns M, or undefined when `em` is not a valid encoding.
 */
export function decodeRsaOaepSha256(em: Buffer): Buffer | undefined {
  const k = em.length;
  // A public length (the modulus size), not secret: a short one cannot hold an encoding.
  if (k < 2 * H_LEN + 2) return undefined;
  const maskedSeed = em.subarray(1, 1 + H_LEN);
  const maskedDb = em.subarray(1 + H_LEN);
  const seedMask = mgf1(maskedDb, H_LEN);
  const seed = Buffer.allocUnsafe(H_LEN);
  for (let i = 0; i < H_LEN; i++) seed[i] = (maskedSeed[i] as number) ^ (seedMask[i] as number);
  const dbMask = mgf1(seed, maskedDb.length);
  const db = Buffer.allocUnsafe(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = (maskedDb[i] as number) ^ (dbMask[i] as number);

  let diff = em[0] as number;
  for (let i = 0; i < H_LEN; i++) diff |= (db[i] as number) ^ (EMPTY_LABEL_HASH[i] as number);
  let good = isZero(diff);
  // PS (zero bytes) then 0x01 then M: find the first 0x01, with any other non-zero byte before
  // it making the encoding invalid, reading every byte whatever it holds.
  let looking = 1;
  let invalid = 0;
  let separator = 0;
  for (let i = H_LEN; i < db.length; i++) {
    const b = db[i] as number;
    const one = isZero(b ^ 1);
    const zero = isZero(b);
    const found = looking & one;
    separator = (separator & -(found ^ 1)) | (i & -found);
    invalid |= looking & ((one | zero) ^ 1);
    looking &= one ^ 1;
  }
  good &= (looking | invalid) ^ 1;
  if (good !== 1) return undefined;
  return Buffer.from(db.subarray(separator + 1));
}
