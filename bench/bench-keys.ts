import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateRsaKeyPair } from '../src/pki/certificates.js';

/** Kids the bench keys go by, on both sides of the wire. */
export const BENCH_KIDS = { issuer: 'issuer-enc-bench', visa: 'visa-sign-bench' } as const;

/**
 * The files a receiver needs (mode 0600 for secrets), plus the Visa-side keys the generator needs.
 */
export interface BenchKeys {
  dir: string;
  issuerKeyFile: string;
  issuerPublicKeyPem: string;
  visaPrivateKeyPem: string;
  visaSpkiFile: string;
  dataKeyFile: string;
  fingerprintKeyFile: string;
  /** SHA-256 over both public keys and kids: names the cached notification sets made for them. */
  fingerprint: string;
}

function secret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * RSA-2048 keys for the bench, made once and kept under `dir` (gitignored), so cached
 * notification sets stay valid across runs. Not for any real use.
 */
export function benchKeys(dir: string): BenchKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = {
    issuerKey: join(dir, 'issuer-enc.key.pem'),
    issuerPub: join(dir, 'issuer-enc.spki.pem'),
    visaKey: join(dir, 'visa-sign.key.pem'),
    visaPub: join(dir, 'visa-sign.spki.pem'),
    dataKey: join(dir, 'data-key'),
    fingerprintKey: join(dir, 'fingerprint-key'),
  };
  if (!existsSync(f.fingerprintKey)) {
    const issuer = generateRsaKeyPair(2048);
    const visa = generateRsaKeyPair(2048);
    secret(f.issuerKey, issuer.privateKeyPem);
    writeFileSync(f.issuerPub, issuer.publicKeyPem);
    secret(f.visaKey, visa.privateKeyPem);
    writeFileSync(f.visaPub, visa.publicKeyPem);
    secret(f.dataKey, `${randomBytes(32).toString('base64')}\n`);
    secret(f.fingerprintKey, `${randomBytes(32).toString('base64')}\n`);
  }
  const issuerPublicKeyPem = readFileSync(f.issuerPub, 'utf8');
  const visaSpki = readFileSync(f.visaPub, 'utf8');
  const fingerprint = createHash('sha256')
    .update(spkiDer(createPublicKey(issuerPublicKeyPem)))
    .update(spkiDer(createPublicKey(visaSpki)))
    .update(`${BENCH_KIDS.issuer}/${BENCH_KIDS.visa}`)
    .digest('hex')
    .slice(0, 16);
  return {
    dir,
    issuerKeyFile: f.issuerKey,
    issuerPublicKeyPem,
    visaPrivateKeyPem: readFileSync(f.visaKey, 'utf8'),
    visaSpkiFile: f.visaPub,
    dataKeyFile: f.dataKey,
    fingerprintKeyFile: f.fingerprintKey,
    fingerprint,
  };
}

function spkiDer(k: KeyObject): Buffer {
  return k.export({ type: 'spki', format: 'der' });
}

/** The issuer's private key as a KeyObject (for the bound measurement). */
export function issuerPrivateKey(keys: BenchKeys): KeyObject {
  return createPrivateKey(readFileSync(keys.issuerKeyFile));
}
