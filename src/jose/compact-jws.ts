import { constants, type KeyObject, verify } from 'node:crypto';
import type { SignatureAlgorithm } from '../domain/jose-algorithms.js';
import { RejectedError } from '../errors.js';
import { decodeBase64url, decodeJsonObject } from './base64url.js';

const HASH: Record<SignatureAlgorithm, { hash: string; pss: boolean; saltLength: number }> = {
  PS256: { hash: 'sha256', pss: true, saltLength: 32 },
  PS384: { hash: 'sha384', pss: true, saltLength: 48 },
  PS512: { hash: 'sha512', pss: true, saltLength: 64 },
  RS256: { hash: 'sha256', pss: false, saltLength: 0 },
  RS384: { hash: 'sha384', pss: false, saltLength: 0 },
  RS512: { hash: 'sha512', pss: false, saltLength: 0 },
};

export interface VerifiedJws {
  /** The protected header, as sent. */
  header: Record<string, unknown>;
  kid: string;
  /** The decoded payload bytes. */
  payload: Buffer;
}

/**
 * Verifies a JWS in compact serialization (RFC 7515 §7.1) against a key chosen by `kid`.
 *
 * Follows RFC 7515 §5.2: exactly three segments of strict base64url; the protected header
 * must be a JSON object; `alg` must be on `allowed` (default in config: PS256 only); `crit`
 * is refused because we implement no extensions (§4.1.11), which also refuses RFC 7797
 * unencoded payloads. Keys are never taken from `jwk`/`jku`/`x5u`/`x5c` in the header: only
 * the configured key whose id equals `kid`. RSASSA-PSS uses a salt as long as the hash
 * (RFC 7518 §3.5).
 *
 * @throws RejectedError JWS_MALFORMED | JWS_CRIT_UNSUPPORTED | JWS_ALG_NOT_ALLOWED |
 * JWS_KID_UNKNOWN | JWS_SIGNATURE_INVALID
 */
export function verifyCompactJws(
  token: string,
  keys: ReadonlyMap<string, KeyObject>,
  allowed: readonly SignatureAlgorithm[],
): VerifiedJws {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) !== -1) {
    throw new RejectedError('JWS_MALFORMED', 'not a compact JWS');
  }
  const headerSegment = token.slice(0, first);
  const payloadSegment = token.slice(first + 1, second);
  const header = decodeJsonObject(headerSegment);
  const payload = decodeBase64url(payloadSegment);
  const signature = decodeBase64url(token.slice(second + 1));
  if (header === undefined || payload === undefined || signature === undefined) {
    throw new RejectedError('JWS_MALFORMED', 'not a compact JWS');
  }
  if (header.crit !== undefined)
    throw new RejectedError('JWS_CRIT_UNSUPPORTED', 'JWS crit header not supported');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(allowed as readonly string[]).includes(alg)) {
    throw new RejectedError('JWS_ALG_NOT_ALLOWED', 'JWS alg not allowed');
  }
  const kid = header.kid;
  const key = typeof kid === 'string' ? keys.get(kid) : undefined;
  if (key === undefined || typeof kid !== 'string')
    throw new RejectedError('JWS_KID_UNKNOWN', 'JWS kid unknown');

  const spec = HASH[alg as SignatureAlgorithm];
  const signingInput = Buffer.from(token.slice(0, second), 'ascii');
  let ok = false;
  try {
    ok = verify(
      spec.hash,
      signingInput,
      spec.pss
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.saltLength }
        : { key, padding: constants.RSA_PKCS1_PADDING },
      signature,
    );
  } catch {
    ok = false;
  }
  if (!ok) throw new RejectedError('JWS_SIGNATURE_INVALID', 'JWS signature invalid');
  return { header, kid, payload };
}
