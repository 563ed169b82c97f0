import { execFileSync } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { registerSensitive } from './personal-data.js';
import { processTempDir } from './temp-dir.js';

/** Debian's SoftHSM2 (`softhsm2`), installed by `.ci/run` when missing. */
export const SOFTHSM_MODULE = process.env.CTP_TEST_SOFTHSM ?? '/usr/lib/softhsm/libsofthsm2.so';
const SOFTHSM_UTIL = '/usr/bin/softhsm2-util';
/** opensc's inspector, a second reader of what the token holds. */
const PKCS11_TOOL = '/usr/bin/pkcs11-tool';

/** A fresh SoftHSM2 token in this test process's temp folder. */
export interface TestToken {
  /** The folder holding the token (its `tokens/` subfolder is the token store). */
  dir: string;
  tokenDir: string;
  /** SOFTHSM2_CONF for child processes (set in this process's env too). */
  conf: string;
  module: string;
  label: string;
  pin: string;
  /** A file holding the PIN, mode 0600. */
  pinFile: string;
  /** The `hsm` block a bank would write for this token. */
  hsmConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  /**
   * Puts `privateKey` into the token under `label` (sensitive, not extractable), from a child
   * process so that this process's module state stays the service's own.
   */
  importKey(label: string, privateKey: KeyObject, options?: { extractable?: boolean }): void;
}

/**
 * Undefined, with a visible line, when SoftHSM2 is missing outside CI; under CI=true a missing
 * SoftHSM2 fails the suite (`.ci/run` installs it).
 */
export function softHsmMissing(): boolean {
  if ([SOFTHSM_MODULE, SOFTHSM_UTIL, PKCS11_TOOL].every((f) => existsSync(f))) return false;
  if (process.env.CI === 'true')
    throw new Error(`${SOFTHSM_MODULE} is missing under CI=true (.ci/run installs softhsm2)`);
  process.stdout.write(
    `# SKIPPING token tests: ${SOFTHSM_MODULE} not found (apt-get install softhsm2 opensc)\n`,
  );
  return true;
}

/** Makes a token labelled `label` with a distinctive PIN (the suite scan looks for it). */
export function testToken(label = 'ctp-issuer'): TestToken {
  const dir = processTempDir('ctp-softhsm-');
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  process.env.SOFTHSM2_CONF = conf;
  const pin = `73${Math.floor(1e6 + Math.random() * 8e6)}91`;
  // No log line, error or output may carry the PIN.
  registerSensitive(pin);
  const pinFile = join(dir, 'hsm.pin');
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  chmodSync(pinFile, 0o600);
  execFileSync(
    SOFTHSM_UTIL,
    ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `${pin}0`],
    { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'ignore' },
  );
  return {
    dir,
    tokenDir,
    conf,
    module: SOFTHSM_MODULE,
    label,
    pin,
    pinFile,
    hsmConfig: (extra = {}) => ({
      module: SOFTHSM_MODULE,
      token: label,
      pin: { file: pinFile },
      reconnectMs: 200,
      ...extra,
    }),
    importKey(keyLabel, privateKey, options = {}) {
      const jwk = privateKey.export({ format: 'jwk' });
      execFileSync(process.execPath, ['--input-type=commonjs', '-e', IMPORT_SCRIPT], {
        env: {
          ...process.env,
          SOFTHSM2_CONF: conf,
          PKCS11JS: createRequire(import.meta.url).resolve('pkcs11js'),
          IMPORT: JSON.stringify({
            module: SOFTHSM_MODULE,
            token: label,
            pin,
            label: keyLabel,
            jwk,
            extractable: options.extractable === true,
          }),
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    },
  };
}

// C_CreateObject of an RSA private key (PKCS#11 v2.40 §2.1.3) and its public key.
const IMPORT_SCRIPT = `
const P = require(process.env.PKCS11JS);
const o = JSON.parse(process.env.IMPORT);
const b = (s) => Buffer.from(s, 'base64url');
const p = new P.PKCS11(); p.load(o.module); p.C_Initialize();
try {
  const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === o.token);
  const s = p.C_OpenSession(slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION);
  p.C_Login(s, P.CKU_USER, o.pin);
  const j = o.jwk;
  p.C_CreateObject(s, [
    { type: P.CKA_CLASS, value: P.CKO_PRIVATE_KEY }, { type: P.CKA_KEY_TYPE, value: P.CKK_RSA },
    { type: P.CKA_TOKEN, value: true }, { type: P.CKA_PRIVATE, value: true },
    { type: P.CKA_LABEL, value: o.label }, { type: P.CKA_SENSITIVE, value: true },
    { type: P.CKA_EXTRACTABLE, value: o.extractable }, { type: P.CKA_DECRYPT, value: true },
    { type: P.CKA_SIGN, value: false },
    { type: P.CKA_MODULUS, value: b(j.n) }, { type: P.CKA_PUBLIC_EXPONENT, value: b(j.e) },
    { type: P.CKA_PRIVATE_EXPONENT, value: b(j.d) }, { type: P.CKA_PRIME_1, value: b(j.p) },
    { type: P.CKA_PRIME_2, value: b(j.q) }, { type: P.CKA_EXPONENT_1, value: b(j.dp) },
    { type: P.CKA_EXPONENT_2, value: b(j.dq) }, { type: P.CKA_COEFFICIENT, value: b(j.qi) },
  ]);
  p.C_CreateObject(s, [
    { type: P.CKA_CLASS, value: P.CKO_PUBLIC_KEY }, { type: P.CKA_KEY_TYPE, value: P.CKK_RSA },
    { type: P.CKA_TOKEN, value: true }, { type: P.CKA_LABEL, value: o.label },
    { type: P.CKA_ENCRYPT, value: true },
    { type: P.CKA_MODULUS, value: b(j.n) }, { type: P.CKA_PUBLIC_EXPONENT, value: b(j.e) },
  ]);
} finally { p.C_Finalize(); }
`;
