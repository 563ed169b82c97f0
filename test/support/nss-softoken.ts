import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerSensitive } from './personal-data.js';
import { processTempDir } from './temp-dir.js';

/**
 * NSS's software token (Debian's libnss3 and libnss3-tools): unlike SoftHSM 2.6 it does
 * CKM_RSA_PKCS_OAEP with SHA-256 (PKCS#11 v2.40 §2.1.8), so the `rsa-oaep-sha256` mechanism runs
 * in a token.
 */
export const NSS_MODULE = process.env.CTP_TEST_NSS ?? '/usr/lib/x86_64-linux-gnu/libsoftokn3.so';
const CERTUTIL = '/usr/bin/certutil';
/** The label NSS gives the token holding the database's keys. */
export const NSS_TOKEN = 'NSS Certificate DB';

/** True, with a visible line, when NSS is missing outside CI; under CI=true it fails instead. */
export function nssMissing(): boolean {
  if (existsSync(NSS_MODULE) && existsSync(CERTUTIL)) return false;
  if (process.env.CI === 'true')
    throw new Error(
      `${NSS_MODULE} or ${CERTUTIL} is missing under CI=true (.ci/run installs them)`,
    );
  process.stdout.write(
    `# SKIPPING NSS token tests: ${NSS_MODULE} or ${CERTUTIL} not found (apt-get install libnss3-tools)\n`,
  );
  return true;
}

export interface NssToken {
  /** The NSS database folder (cert9.db, key4.db). */
  dbDir: string;
  /** The database password, which is the token user's PIN. */
  pin: string;
  /** A file holding it, mode 0600. */
  pinFile: string;
  /** The `hsm` block a bank would write for this database. */
  hsmConfig(): Record<string, unknown>;
}

/**
 * A fresh NSS database in this test process's temp folder, with a password, so that logging in
 * is real (an empty password needs no C_Login).
 */
export function nssToken(): NssToken {
  const dir = processTempDir('ctp-nss-');
  const dbDir = join(dir, 'db');
  mkdirSync(dbDir);
  const pin = `nss-${Math.floor(1e6 + Math.random() * 8e6)}-pin`;
  registerSensitive(pin);
  const pinFile = join(dir, 'nss.pin');
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  chmodSync(pinFile, 0o600);
  // certutil -f reads the password from the file's first line.
  execFileSync(CERTUTIL, ['-N', '-d', `sql:${dbDir}`, '-f', pinFile], { stdio: 'ignore' });
  return {
    dbDir,
    pin,
    pinFile,
    hsmConfig: () => ({
      module: NSS_MODULE,
      token: NSS_TOKEN,
      pin: { file: pinFile },
      reconnectMs: 200,
      // NSS softoken's C_Initialize parameters (its "configdir" string); no secmod.db is read.
      libraryParameters: `configdir='sql:${dbDir}' certPrefix='' keyPrefix='' secmod='secmod.db' flags= `,
    }),
  };
}
