import { randomBytes } from 'node:crypto';
import type { ExternalSigner } from '../pki/certificates.js';
import type { HsmToken, TokenKeyInfo } from './hsm-token.js';
import { pkcs11js, tokenCodeOf, ulongArray } from './pkcs11-binding.js';
import type { ResolvedMechanism } from './token-decryption-key.js';

/** What {@link generateTokenKeyPair} made. */
export interface GeneratedTokenKey {
  info: TokenKeyInfo;
  /**
   * True when the token took CKA_ALLOWED_MECHANISMS (PKCS#11 v2.40 §4.6): the key can do only
   * its decryption mechanism (and the one self-signature); false on a token without it.
   */
  mechanismsRestricted: boolean;
}

/**
 * Generates an RSA key pair inside the token (CKM_RSA_PKCS_KEY_PAIR_GEN, e = 65537), labelled
 * `label` on both objects with a shared random CKA_ID. The private key is CKA_SENSITIVE, not
 * CKA_EXTRACTABLE (so CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE hold for its life), may
 * decrypt with `mechanism` only where the token supports CKA_ALLOWED_MECHANISMS, and may sign
 * until {@link disableSigning} (the certificate and CSR are its only signatures).
 * @throws Error when a private key with that label exists (a key is never replaced).
 */
export function generateTokenKeyPair(
  token: HsmToken,
  label: string,
  bits: 2048 | 3072 | 4096,
  mechanism: ResolvedMechanism,
): GeneratedTokenKey {
  if (token.key(label) !== undefined)
    throw new Error(
      `the token already has a private key labelled "${label}"; refusing to replace it`,
    );
  const lib = pkcs11js();
  const id = randomBytes(16);
  const decrypt = mechanism === 'rsa-raw' ? lib.CKM_RSA_X_509 : lib.CKM_RSA_PKCS_OAEP;
  const publicTemplate = [
    { type: lib.CKA_TOKEN, value: true },
    { type: lib.CKA_PRIVATE, value: false },
    { type: lib.CKA_LABEL, value: label },
    { type: lib.CKA_ID, value: id },
    { type: lib.CKA_ENCRYPT, value: true },
    { type: lib.CKA_VERIFY, value: true },
    { type: lib.CKA_WRAP, value: false },
    { type: lib.CKA_MODULUS_BITS, value: bits },
    { type: lib.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
  ];
  const privateTemplate = [
    { type: lib.CKA_TOKEN, value: true },
    { type: lib.CKA_PRIVATE, value: true },
    { type: lib.CKA_LABEL, value: label },
    { type: lib.CKA_ID, value: id },
    { type: lib.CKA_SENSITIVE, value: true },
    { type: lib.CKA_EXTRACTABLE, value: false },
    { type: lib.CKA_DECRYPT, value: true },
    { type: lib.CKA_UNWRAP, value: false },
    { type: lib.CKA_SIGN, value: true },
  ];
  const allowed = {
    type: lib.CKA_ALLOWED_MECHANISMS,
    value: ulongArray([decrypt, lib.CKM_SHA256_RSA_PKCS]),
  };
  const mechanismsRestricted = token.withSession((p, s) => {
    const gen = { mechanism: lib.CKM_RSA_PKCS_KEY_PAIR_GEN };
    try {
      p.C_GenerateKeyPair(s, gen, publicTemplate, [...privateTemplate, allowed]);
      return true;
    } catch (e) {
      // NSS softoken (3.x) knows no CKA_ALLOWED_MECHANISMS and answers CKR_GENERAL_ERROR, having
      // made nothing: the retry without it either succeeds or fails on its own.
      if (!/ATTRIBUTE_TYPE_INVALID|TEMPLATE_INCONSISTENT|GENERAL_ERROR/.test(tokenCodeOf(e)))
        throw e;
      p.C_GenerateKeyPair(s, gen, publicTemplate, privateTemplate);
      return false;
    }
  });
  const info = token.key(label);
  if (info === undefined) throw new Error('the generated key is not in the token');
  return { info, mechanismsRestricted };
}

/** Signs with the token key labelled `label` (CKM_SHA256_RSA_PKCS). */
export function tokenSigner(token: HsmToken, label: string): ExternalSigner {
  return { sign: (data) => token.signSync(label, data) };
}

/**
 * Sets CKA_SIGN false on the key once its certificate is made, so it can only decrypt.
 * @returns false when the token refuses (then the bank's token policy must do it).
 */
export function disableSigning(token: HsmToken, label: string): boolean {
  const lib = pkcs11js();
  const handle = token.key(label);
  if (handle === undefined) return false;
  try {
    token.withSession((p, s) => {
      p.C_FindObjectsInit(s, [
        { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
        { type: lib.CKA_LABEL, value: label },
      ]);
      const [h] = p.C_FindObjects(s, 1);
      p.C_FindObjectsFinal(s);
      if (h === undefined) throw new Error('key vanished');
      p.C_SetAttributeValue(s, h, [{ type: lib.CKA_SIGN, value: false }]);
    });
    return token.key(label)?.sign === false;
  } catch {
    return false;
  }
}
