import { constants, type KeyObject, privateDecrypt } from 'node:crypto';

/**
 * The issuer's private key for one JWE `kid`, wherever it lives: a PEM file read into memory, or
 * a key inside a PKCS#11 token (`hsm/token-decryption-key.ts`).
 */
export interface DecryptionKey {
  /** Where the private key is kept, for operators. */
  readonly location: 'file' | 'hsm';
  /**
   * The RSA step of RSA-OAEP-256 (RFC 7518 §4.3; RSAES-OAEP with SHA-256 and MGF1-SHA-256, RFC
   * 8017 §7.1.2) on the JWE Encrypted Key. Synchronous for a key in memory; a promise for a key in
   * a token, whose call runs off the event loop.
   * @returns the CEK, or undefined when the Encrypted Key does not decrypt (one shape for every
   * reason: RFC 7516 §11.5).
   * @throws KeyUnavailableError when the key's token cannot be used right now.
   */
  unwrapCek(encryptedKey: Buffer): Buffer | undefined | Promise<Buffer | undefined>;
}

/** A decryption key held in memory (from a PEM file). */
export function fileDecryptionKey(key: KeyObject): DecryptionKey {
  const k = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  return {
    location: 'file',
    unwrapCek(encryptedKey) {
      // RFC 8017 §7.1.2 step 1.b: a ciphertext of another length than k is a decryption error
      // (OpenSSL would read a short one as the integer it spells); a token key refuses it too.
      if (encryptedKey.length !== k) return undefined;
      try {
        return privateDecrypt(
          { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          encryptedKey,
        );
      } catch {
        return undefined;
      }
    },
  };
}
