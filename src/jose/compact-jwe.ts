import { createDecipheriv, randomBytes } from 'node:crypto';
import type {
  ContentEncryptionAlgorithm,
  KeyManagementAlgorithm,
} from '../domain/jose-algorithms.js';
import { QuarantineError } from '../errors.js';
import { decodeBase64url, decodeJsonObject } from './base64url.js';
import type { DecryptionKey } from './decryption-key.js';

const CEK_BYTES: Record<ContentEncryptionAlgorithm, number> = { A256GCM: 32, A128GCM: 16 };

export interface DecryptedJwe {
  header: Record<string, unknown>;
  kid: string;
  plaintext: Buffer;
}

export interface JweAllowList {
  keyManagement: readonly KeyManagementAlgorithm[];
  contentEncryption: readonly ContentEncryptionAlgorithm[];
}

/**
 * Decrypts a JWE in compact serialization (RFC 7516 §7.1) with the private key named by `kid`.
 *
 * Follows RFC 7516 §5.2 for the one shape Visa sends: five segments; a protected header that
 * is a JSON object with `alg` and `enc` on the allow-list and a `kid`; no `zip` (compression
 * invites decompression bombs and Visa does not use it) and no `crit`; a 96-bit IV and 128-bit
 * tag (RFC 7518 §5.3); the protected header's base64url text as AAD. When the RSA step fails we
 * continue with a random CEK so the failure surfaces at the GCM tag check, as RFC 7516 §11.5
 * advises against padding-oracle timing.
 *
 * The RSA step is the key's ({@link DecryptionKey}): in memory it runs synchronously (no
 * promise is awaited); in a token it runs off the event loop.
 *
 * @throws QuarantineError JWE_MALFORMED | JWE_ALG_NOT_ALLOWED | JWE_KID_UNKNOWN |
 * JWE_DECRYPTION_FAILED
 * @throws KeyUnavailableError when the key's token cannot be used (nothing was decided about
 * the message: it must not be stored as quarantined).
 */
export async function decryptCompactJwe(
  token: string,
  keys: ReadonlyMap<string, DecryptionKey>,
  allow: JweAllowList,
): Promise<DecryptedJwe> {
  const parts = token.split('.');
  if (parts.length !== 5) throw new QuarantineError('JWE_MALFORMED', 'not a compact JWE');
  const [headerSegment, keySegment, ivSegment, ctSegment, tagSegment] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  const header = decodeJsonObject(headerSegment);
  const encryptedKey = decodeBase64url(keySegment);
  const iv = decodeBase64url(ivSegment);
  const ciphertext = decodeBase64url(ctSegment);
  const tag = decodeBase64url(tagSegment);
  if (
    header === undefined ||
    encryptedKey === undefined ||
    iv === undefined ||
    ciphertext === undefined ||
    tag === undefined
  ) {
    throw new QuarantineError('JWE_MALFORMED', 'not a compact JWE');
  }
  if (header.crit !== undefined || header.zip !== undefined) {
    throw new QuarantineError('JWE_ALG_NOT_ALLOWED', 'JWE crit or zip not supported');
  }
  const { alg, enc, kid } = header;
  if (typeof alg !== 'string' || !(allow.keyManagement as readonly string[]).includes(alg)) {
    throw new QuarantineError('JWE_ALG_NOT_ALLOWED', 'JWE alg not allowed');
  }
  if (typeof enc !== 'string' || !(allow.contentEncryption as readonly string[]).includes(enc)) {
    throw new QuarantineError('JWE_ALG_NOT_ALLOWED', 'JWE enc not allowed');
  }
  if (typeof kid !== 'string') throw new QuarantineError('JWE_MALFORMED', 'JWE kid missing');
  const key = keys.get(kid);
  if (key === undefined)
    throw new QuarantineError('JWE_KID_UNKNOWN', 'no decryption key for JWE kid');
  if (iv.length !== 12 || tag.length !== 16 || encryptedKey.length === 0) {
    throw new QuarantineError('JWE_MALFORMED', 'JWE iv, tag or encrypted key has the wrong size');
  }

  const cekLength = CEK_BYTES[enc as ContentEncryptionAlgorithm];
  const unwrapped = key.unwrapCek(encryptedKey);
  let cek = unwrapped instanceof Promise ? await unwrapped : unwrapped;
  if (cek === undefined || cek.length !== cekLength) cek = randomBytes(cekLength);
  try {
    const decipher = createDecipheriv(enc === 'A256GCM' ? 'aes-256-gcm' : 'aes-128-gcm', cek, iv, {
      authTagLength: 16,
    });
    decipher.setAAD(Buffer.from(headerSegment, 'ascii'));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    return { header, kid, plaintext };
  } catch {
    throw new QuarantineError('JWE_DECRYPTION_FAILED', 'JWE decryption failed');
  }
}
