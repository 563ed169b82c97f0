import {
  constants,
  type KeyObject,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { TokenMechanism } from '../domain/token-mechanisms.js';
import { ConfigError } from '../errors.js';
import type { DecryptionKey } from '../jose/decryption-key.js';
import type { HsmToken, TokenKeyInfo } from './hsm-token.js';
import { type Pkcs11, pkcs11js, tokenCodeOf } from './pkcs11-binding.js';
import { decodeRsaOaepSha256 } from './rsa-oaep-decode.js';

/** A mechanism the self-test settled on (`auto` resolved). */
export type ResolvedMechanism = Exclude<TokenMechanism, 'auto'>;

/** CK_RSA_PKCS_OAEP_PARAMS for RSA-OAEP-256 (PKCS#11 v2.40 §2.1.8): SHA-256, MGF1-SHA-256, no label. */
function oaepSha256(): Pkcs11.Mechanism {
  const lib = pkcs11js();
  return {
    mechanism: lib.CKM_RSA_PKCS_OAEP,
    parameter: {
      type: lib.CK_PARAMS_RSA_OAEP,
      hashAlg: lib.CKM_SHA256,
      mgf: lib.CKG_MGF1_SHA256,
      // CKZ_DATA_SPECIFIED (1) with no source data: the empty label JWE uses.
      source: 1,
    } as Pkcs11.RsaOAEP,
  };
}

/**
 * An issuer decryption key inside a PKCS#11 token. With `rsa-oaep-sha256` the token does the whole
 * RSAES-OAEP decryption; with `rsa-raw` it does the RSA private-key operation (`CKM_RSA_X_509`)
 * and the service decodes the OAEP encoding ({@link decodeRsaOaepSha256}), with the same
 * single failure shape.
 */
export class TokenDecryptionKey implements DecryptionKey {
  readonly location = 'hsm' as const;
  readonly label: string;
  readonly mechanism: ResolvedMechanism;
  readonly publicKey: KeyObject;
  readonly #token: HsmToken;
  readonly #k: number;
  /** The modulus, k bytes big-endian. */
  readonly #n: Buffer;
  readonly #mech: Pkcs11.Mechanism;

  constructor(token: HsmToken, info: TokenKeyInfo, mechanism: ResolvedMechanism) {
    this.#token = token;
    this.label = info.label;
    this.publicKey = info.publicKey;
    this.#k = info.modulusBytes;
    this.#n = Buffer.from(info.publicKey.export({ format: 'jwk' }).n as string, 'base64url');
    this.mechanism = mechanism;
    this.#mech = mechanism === 'rsa-raw' ? { mechanism: pkcs11js().CKM_RSA_X_509 } : oaepSha256();
  }

  async unwrapCek(encryptedKey: Buffer): Promise<Buffer | undefined> {
    if (!this.#inRange(encryptedKey)) return undefined;
    const out = await this.#token.decrypt(this.label, this.#mech, encryptedKey);
    return this.#finish(out);
  }

  /** The same on the event loop, for start-up (self-test, wrapped data keys). */
  unwrapSync(ciphertext: Buffer): Buffer | undefined {
    if (!this.#inRange(ciphertext)) return undefined;
    return this.#finish(this.#token.decryptSync(this.label, this.#mech, ciphertext));
  }

  /**
   * k bytes (RFC 8017 §7.1.2 step 1.b) and below n (RSADP, §5.1.2 step 1): both public, so
   * checked here, without a token call. A token answers c ≥ n with a return value that is not
   * about the data (SoftHSM 2.6: CKR_GENERAL_ERROR), which would be taken for a token fault.
   */
  #inRange(c: Buffer): boolean {
    // Equal lengths: byte order is numeric order.
    return c.length === this.#k && Buffer.compare(c, this.#n) < 0;
  }

  #finish(out: Buffer | undefined): Buffer | undefined {
    if (out === undefined || this.mechanism === 'rsa-oaep-sha256') return out;
    if (out.length > this.#k) return undefined;
    // CKM_RSA_X_509 output is k bytes; left-pad defensively if a module strips leading zeros.
    const em =
      out.length === this.#k ? out : Buffer.concat([Buffer.alloc(this.#k - out.length), out]);
    return decodeRsaOaepSha256(em);
  }
}

/** Return values meaning "this token or key does not do that mechanism". */
const REFUSALS =
  /MECHANISM_INVALID|MECHANISM_PARAM_INVALID|ARGUMENTS_BAD|KEY_FUNCTION_NOT_PERMITTED|KEY_TYPE_INCONSISTENT|FUNCTION_NOT_SUPPORTED/;

/**
 * Finds the key labelled `ref.label` and runs the start-up self-test: it exists and is an RSA
 * private key of at least 2048 bits, private, sensitive and not extractable, allowed to decrypt;
 * it matches `certificateKey` when one is configured; and it decrypts a fresh RSA-OAEP-256 test
 * value with the configured mechanism (`auto`: the first of `rsa-oaep-sha256`, `rsa-raw` that
 * does).
 * @param ref The key as configured (config's `TokenKeyRef`): its label and mechanism.
 * @param field JSON pointer of the key reference (`/keys/decryption/0/hsm`).
 * @throws ConfigError naming `${field}/label`, `${field}/mechanism` or `certificateField`.
 */
export function openTokenKey(
  token: HsmToken,
  ref: { label: string; mechanism: TokenMechanism },
  field: string,
  certificate?: { key: KeyObject; field: string },
): TokenDecryptionKey {
  const where = `in token "${token.description.token}"`;
  const info = token.key(ref.label);
  if (info === undefined)
    throw new ConfigError(`${field}/label`, `no private key labelled "${ref.label}" ${where}`);
  const bits = info.modulusBytes * 8;
  if (bits < 2048)
    throw new ConfigError(`${field}/label`, `RSA key of at least 2048 bits required (${bits})`);
  const wrong = [
    info.isPrivate ? '' : 'CKA_PRIVATE is false',
    info.sensitive ? '' : 'CKA_SENSITIVE is false',
    info.extractable ? 'CKA_EXTRACTABLE is true' : '',
    info.decrypt ? '' : 'CKA_DECRYPT is false',
  ].filter(Boolean);
  if (wrong.length > 0)
    throw new ConfigError(
      `${field}/label`,
      `the key "${ref.label}" must be private, sensitive, not extractable and allowed to decrypt: ${wrong.join(', ')}`,
    );
  if (certificate && !samePublicKey(certificate.key, info.publicKey))
    throw new ConfigError(
      certificate.field,
      `certificate does not match the token key "${ref.label}"`,
    );

  const candidates: ResolvedMechanism[] =
    ref.mechanism === 'auto' ? ['rsa-oaep-sha256', 'rsa-raw'] : [ref.mechanism];
  const refused: string[] = [];
  for (const mechanism of candidates) {
    const key = new TokenDecryptionKey(token, info, mechanism);
    const value = randomBytes(32);
    const test = publicEncrypt(
      { key: info.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      value,
    );
    let out: Buffer | undefined;
    try {
      out = key.unwrapSync(test);
    } catch (e) {
      const code = tokenCodeOf(e);
      if (!REFUSALS.test(code))
        throw new ConfigError(`${field}/label`, `self-test failed (${code})`);
      refused.push(`${mechanism} (${code})`);
      continue;
    }
    if (out !== undefined && out.length === value.length && timingSafeEqual(out, value)) return key;
    refused.push(`${mechanism} (wrong plaintext)`);
  }
  const hint =
    ref.mechanism === 'rsa-oaep-sha256'
      ? ': a token without OAEP-SHA-256 (SoftHSM 2.6) needs "rsa-raw", with CKM_RSA_X_509 allowed on the key'
      : '';
  throw new ConfigError(
    `${field}/mechanism`,
    `the self-test decryption with "${ref.label}" failed: ${refused.join(', ')}${hint}`,
  );
}

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const ja = a.export({ format: 'jwk' });
  const jb = b.export({ format: 'jwk' });
  return ja.kty === 'RSA' && ja.n === jb.n && ja.e === jb.e;
}
