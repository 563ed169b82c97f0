import {
  constants,
  createCipheriv,
  createHmac,
  type KeyObject,
  publicEncrypt,
  randomBytes,
  sign,
} from 'node:crypto';
import { deflateRawSync } from 'node:zlib';

/**
 * Hand-built JOSE tokens for the differential test: jose's own builders refuse to produce most
 * of what a hostile or broken sender could (unknown `crit`, invalid UTF-8 headers, RSA1_5, a
 * content key of the wrong length, a signature by another algorithm than the header names), so
 * these are assembled from node:crypto primitives per RFC 7515 §5.1 and RFC 7516 §5.1.
 */

export const b64u = (b: Buffer | Uint8Array | string): string =>
  Buffer.from(b).toString('base64url');

/** What a JWS signature is made with, independently of the `alg` its header claims. */
export type SignAs =
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256-max-salt'
  | 'HS256'
  | 'none'
  | 'garbage';

/** `header.payload.signature` where the signature covers the exact ASCII signing input. */
export function buildJws(
  headerBytes: Buffer,
  payloadSegment: string,
  signAs: SignAs,
  key: KeyObject,
  hmacSecret: Buffer,
): string {
  const head = b64u(headerBytes);
  const input = Buffer.from(`${head}.${payloadSegment}`, 'latin1');
  let signature: Buffer;
  if (signAs === 'none') signature = Buffer.alloc(0);
  else if (signAs === 'garbage') signature = randomBytes(256);
  else if (signAs === 'HS256') signature = createHmac('sha256', hmacSecret).update(input).digest();
  else if (signAs === 'PS256-max-salt') {
    signature = sign('sha256', input, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN,
    });
  } else {
    const bits = signAs.slice(2);
    signature = signAs.startsWith('PS')
      ? sign(`sha${bits}`, input, {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: Number(bits) / 8,
        })
      : sign(`sha${bits}`, input, { key, padding: constants.RSA_PKCS1_PADDING });
  }
  return `${head}.${payloadSegment}.${b64u(signature)}`;
}

export interface JweBuild {
  /** Key management actually applied (the header may claim another). */
  alg: 'RSA-OAEP-256' | 'RSA-OAEP' | 'RSA1_5' | 'dir' | 'A256KW';
  /** Content encryption actually applied; `garbage` leaves random bytes. */
  enc: 'A256GCM' | 'A128GCM' | 'A192GCM' | 'garbage';
  to: KeyObject;
  plaintext: Buffer;
  /** Content key length when it should not match `enc` (AES-GCM then runs with this length). */
  cekBytes?: number | undefined;
  /** Deflate the plaintext first (RFC 7516 §4.1.3 "zip": "DEF"). */
  deflate?: boolean;
  /** IV length; RFC 7518 §5.3 requires 96 bits (GCM itself takes others). Default 12. */
  ivBytes?: number | undefined;
}

/** `header.encryptedKey.iv.ciphertext.tag`, the protected header's base64url text as AAD. */
export function buildJwe(headerBytes: Buffer, o: JweBuild): string {
  const natural = o.enc === 'A128GCM' ? 16 : o.enc === 'A192GCM' ? 24 : 32;
  const cek = randomBytes(o.cekBytes ?? natural);
  let encryptedKey: Buffer;
  if (o.alg === 'dir') encryptedKey = Buffer.alloc(0);
  else if (o.alg === 'A256KW') encryptedKey = randomBytes(cek.length + 8);
  else {
    encryptedKey = publicEncrypt(
      o.alg === 'RSA1_5'
        ? { key: o.to, padding: constants.RSA_PKCS1_PADDING }
        : {
            key: o.to,
            padding: constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: o.alg === 'RSA-OAEP' ? 'sha1' : 'sha256',
          },
      cek,
    );
  }
  const head = b64u(headerBytes);
  const iv = randomBytes(o.ivBytes ?? 12);
  const data = o.deflate ? deflateRawSync(o.plaintext) : o.plaintext;
  let ciphertext: Buffer;
  let tag: Buffer;
  if (o.enc === 'garbage' || ![16, 24, 32].includes(cek.length)) {
    ciphertext = randomBytes(data.length);
    tag = randomBytes(16);
  } else {
    const cipher = createCipheriv(`aes-${cek.length * 8}-gcm` as 'aes-256-gcm', cek, iv);
    cipher.setAAD(Buffer.from(head, 'ascii'));
    ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    tag = cipher.getAuthTag();
  }
  return [head, b64u(encryptedKey), b64u(iv), b64u(ciphertext), b64u(tag)].join('.');
}

/** Protected-header bytes: JSON of `header`, or one of a few deliberately broken encodings. */
export function headerBytes(
  header: Record<string, unknown>,
  raw: 'json' | 'invalid-utf8' | 'array' | 'not-json' | 'duplicate-alg',
): Buffer {
  const json = JSON.stringify(header);
  switch (raw) {
    case 'json':
      return Buffer.from(json, 'utf8');
    case 'invalid-utf8':
      // A lone continuation byte inside a string member: RFC 7515 §4 headers are UTF-8 JSON.
      return Buffer.concat([
        Buffer.from(`${json.slice(0, -1)},"x":"`, 'utf8'),
        Buffer.from([0xff]),
        Buffer.from('"}', 'utf8'),
      ]);
    case 'array':
      return Buffer.from(`[${json}]`, 'utf8');
    case 'not-json':
      return Buffer.from(json.slice(0, -1), 'utf8');
    case 'duplicate-alg':
      // JSON.parse keeps the last member, as RFC 7515 §4 allows; both sides must agree on it.
      return Buffer.from(`{"alg":"none",${json.slice(1)}`, 'utf8');
  }
}
