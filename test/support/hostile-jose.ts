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
 * An attacker's (and a careless sender's) JOSE toolkit, on node:crypto: compact JWS and JWE with
 * any header at all, which `jose` refuses to produce (crit, zip, alg none, HMAC with an RSA
 * public key). Encoding only; nothing here decodes what the server does.
 */

export const b64u = (v: string | Buffer | object): string =>
  (Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))).toString(
    'base64url',
  );

export type Signer =
  | { kind: 'rsa-pss'; key: KeyObject; hash?: 'sha256' | 'sha384' | 'sha512' }
  | { kind: 'rsa-pkcs1'; key: KeyObject; hash?: 'sha256' }
  | { kind: 'hmac'; secret: Buffer | string; hash?: 'sha256' | 'sha384' | 'sha512' }
  | { kind: 'none' };

/** `b64u(header).payloadSegment.signature` with the signature made as `signer` says. */
export function signCompact(
  header: Record<string, unknown> | string,
  payloadSegment: string,
  signer: Signer,
): string {
  const input = `${typeof header === 'string' ? header : b64u(header)}.${payloadSegment}`;
  return `${input}.${signature(input, signer)}`;
}

function signature(input: string, s: Signer): string {
  const data = Buffer.from(input, 'ascii');
  switch (s.kind) {
    case 'none':
      return '';
    case 'hmac':
      return createHmac(s.hash ?? 'sha256', s.secret)
        .update(data)
        .digest('base64url');
    case 'rsa-pkcs1':
      return sign(s.hash ?? 'sha256', data, {
        key: s.key,
        padding: constants.RSA_PKCS1_PADDING,
      }).toString('base64url');
    case 'rsa-pss': {
      const hash = s.hash ?? 'sha256';
      const saltLength = { sha256: 32, sha384: 48, sha512: 64 }[hash];
      return sign(hash, data, {
        key: s.key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength,
      }).toString('base64url');
    }
  }
}

/**
 * A compact JWE (RSA-OAEP-256 key wrap, AES-GCM content) with any protected header; with
 * `zip: "DEF"` in the header the plaintext is deflated first (RFC 7516 §4.1.3).
 */
export function encryptCompact(
  header: Record<string, unknown>,
  plaintext: string | Buffer,
  publicKey: KeyObject,
): string {
  const enc = header.enc === 'A128GCM' ? 'aes-128-gcm' : 'aes-256-gcm';
  const cek = randomBytes(enc === 'aes-128-gcm' ? 16 : 32);
  const iv = randomBytes(12);
  const protectedSegment = b64u(header);
  const data =
    header.zip === 'DEF' ? deflateRawSync(Buffer.from(plaintext)) : Buffer.from(plaintext);
  const cipher = createCipheriv(enc, cek, iv);
  cipher.setAAD(Buffer.from(protectedSegment, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  const wrapped = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    cek,
  );
  return [
    protectedSegment,
    b64u(wrapped),
    b64u(iv),
    b64u(ciphertext),
    b64u(cipher.getAuthTag()),
  ].join('.');
}
