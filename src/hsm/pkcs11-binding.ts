import { createRequire } from 'node:module';
import type * as Pkcs11 from 'pkcs11js';

/**
 * pkcs11js (PeculiarVentures), loaded on first use: a deployment without `hsm` never loads the
 * native addon. Chosen over graphene-pk11 (its object layer, by the same authors) because the
 * service needs a handful of raw calls, including `C_DecryptAsync`, which runs the token call on
 * libuv's thread pool so a slow network HSM never blocks the event loop.
 */
export type Pkcs11Lib = typeof Pkcs11;
export type { Pkcs11 };

let lib: Pkcs11Lib | undefined;

export function pkcs11js(): Pkcs11Lib {
  lib ??= createRequire(import.meta.url)('pkcs11js') as Pkcs11Lib;
  return lib;
}

/** The CKR_… name of a PKCS#11 failure (pkcs11js puts it in the message), or the error's kind. */
export function tokenCodeOf(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const m = /^(CKR_[A-Z0-9_]+)/.exec(message);
  if (m) return m[1] as string;
  return error instanceof Error ? error.name : 'UNKNOWN';
}

/**
 * Return values that mean "this ciphertext does not decrypt" (PKCS#11 v2.40 §5.2, C_Decrypt):
 * the session and the key are fine. Anything else is the token's fault.
 */
const DATA_ERRORS = new Set([
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_DATA_INVALID',
  'CKR_DATA_LEN_RANGE',
]);

export function isDataError(error: unknown): boolean {
  return DATA_ERRORS.has(tokenCodeOf(error));
}

/** An array of CK_MECHANISM_TYPE (CK_ULONG, native-endian) as an attribute value. */
export function ulongArray(values: readonly number[]): Buffer {
  const out = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => {
    out.writeBigUInt64LE(BigInt(v), 8 * i);
  });
  return out;
}
