import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HsmToken } from '../src/hsm/hsm-token.js';
import { pkcs11js } from '../src/hsm/pkcs11-binding.js';
import { BENCH_KIDS, type BenchKeys } from './bench-keys.js';

/** Debian's SoftHSM2 (`softhsm2`). */
export const SOFTHSM_MODULE = process.env.CTP_BENCH_SOFTHSM ?? '/usr/lib/softhsm/libsofthsm2.so';
const SOFTHSM_UTIL = '/usr/bin/softhsm2-util';
const TOKEN_LABEL = 'ctp-bench';

/** A SoftHSM2 token holding the bench issuer key, for the `hsm` block of a receiver's config. */
export interface BenchToken {
  /** SOFTHSM2_CONF for the server process. */
  conf: string;
  /** The `hsm` block. */
  hsm: Record<string, unknown>;
  /** The key's label (the issuer kid) and the mechanism (SoftHSM 2.6 has no OAEP-SHA-256). */
  keyRef: { label: string; mechanism: 'rsa-raw' };
}

export function softHsmInstalled(): boolean {
  return existsSync(SOFTHSM_MODULE) && existsSync(SOFTHSM_UTIL);
}

/**
 * A fresh SoftHSM2 token under `dir` (the bench's temp folder) with the bench issuer key put in
 * it (C_CreateObject, PKCS#11 v2.40 §2.1.3: sensitive, not extractable, decrypt only). SoftHSM is
 * a library in the server process, so its RSA operations count in the server's CPU, as they
 * would not with a network HSM.
 */
export function benchToken(dir: string, keys: BenchKeys): BenchToken {
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  const pin = randomBytes(8).toString('hex');
  const pinFile = join(dir, 'token.pin');
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  chmodSync(pinFile, 0o600);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  execFileSync(
    SOFTHSM_UTIL,
    ['--init-token', '--free', '--label', TOKEN_LABEL, '--pin', pin, '--so-pin', `${pin}0`],
    { env, stdio: 'ignore' },
  );
  // SoftHSM reads SOFTHSM2_CONF when initialised: this process loads it only for the import.
  const before = process.env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = conf;
  const token = HsmToken.open({
    module: SOFTHSM_MODULE,
    token: TOKEN_LABEL,
    pin,
    pinField: 'bench token',
    readWrite: true,
    sessions: 1,
  });
  try {
    const lib = pkcs11js();
    const j = createPrivateKey(readFileSync(keys.issuerKeyFile)).export({ format: 'jwk' });
    const b = (s: string | undefined) => Buffer.from(s as string, 'base64url');
    token.withSession((p, s) =>
      p.C_CreateObject(s, [
        { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
        { type: lib.CKA_KEY_TYPE, value: lib.CKK_RSA },
        { type: lib.CKA_TOKEN, value: true },
        { type: lib.CKA_PRIVATE, value: true },
        { type: lib.CKA_LABEL, value: BENCH_KIDS.issuer },
        { type: lib.CKA_SENSITIVE, value: true },
        { type: lib.CKA_EXTRACTABLE, value: false },
        { type: lib.CKA_DECRYPT, value: true },
        { type: lib.CKA_SIGN, value: false },
        { type: lib.CKA_MODULUS, value: b(j.n) },
        { type: lib.CKA_PUBLIC_EXPONENT, value: b(j.e) },
        { type: lib.CKA_PRIVATE_EXPONENT, value: b(j.d) },
        { type: lib.CKA_PRIME_1, value: b(j.p) },
        { type: lib.CKA_PRIME_2, value: b(j.q) },
        { type: lib.CKA_EXPONENT_1, value: b(j.dp) },
        { type: lib.CKA_EXPONENT_2, value: b(j.dq) },
        { type: lib.CKA_COEFFICIENT, value: b(j.qi) },
      ]),
    );
  } finally {
    token.close();
    if (before === undefined) delete process.env.SOFTHSM2_CONF;
    else process.env.SOFTHSM2_CONF = before;
  }
  return {
    conf,
    hsm: { module: SOFTHSM_MODULE, token: TOKEN_LABEL, pin: { file: pinFile } },
    keyRef: { label: BENCH_KIDS.issuer, mechanism: 'rsa-raw' },
  };
}
