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

interface LoadedModule {
  p: Pkcs11.PKCS11;
  users: number;
}
const loaded = new Map<string, LoadedModule>();

/**
 * The module at `path`, loaded and initialised once per process (PKCS#11 §5.4: one
 * C_Initialize per process; a second user gets the same instance) and finalised when its last
 * user releases it.
 * @throws the load or C_Initialize failure.
 */
export function acquireModule(path: string, libraryParameters?: string): LoadedModule {
  const had = loaded.get(path);
  if (had) {
    had.users++;
    return had;
  }
  const lib = pkcs11js();
  const p = new lib.PKCS11();
  p.load(path);
  initializeModule(p, libraryParameters);
  const m = { p, users: 1 };
  loaded.set(path, m);
  return m;
}

/** Finalises the module when `m` was its last user. */
export function releaseModule(path: string, m: LoadedModule): void {
  if (--m.users > 0) return;
  loaded.delete(path);
  try {
    m.p.C_Finalize();
  } catch {
    // not initialised
  }
}

/**
 * C_Finalize then C_Initialize, for a module that lost its device (SoftHSM keeps a token
 * invalid until then). Only when `m` is the module's only user: finalising under another user
 * would break its sessions.
 * @returns false when not done (other users) or C_Initialize failed.
 */
export function reinitializeModule(m: LoadedModule, libraryParameters?: string): boolean {
  if (m.users !== 1) return false;
  try {
    m.p.C_Finalize();
  } catch {
    // not initialised
  }
  try {
    initializeModule(m.p, libraryParameters);
    return true;
  } catch {
    return false;
  }
}

function initializeModule(p: Pkcs11.PKCS11, libraryParameters: string | undefined): void {
  const lib = pkcs11js();
  // CKF_OS_LOCKING_OK: calls come from libuv's threads (C_DecryptAsync).
  try {
    p.C_Initialize(
      libraryParameters
        ? { libraryParameters, flags: lib.CKF_OS_LOCKING_OK }
        : { flags: lib.CKF_OS_LOCKING_OK },
    );
  } catch (e) {
    // Initialised by someone else in this process (a harness loading the module itself).
    if (tokenCodeOf(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw e;
  }
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
