/**
 * The physical bound on this machine, measured in its own process: single-thread synchronous
 * `crypto.privateDecrypt` RSA-OAEP-SHA256 on a 2048-bit key (the one RSA private operation each
 * notification costs), and PS256 verification (the other RSA operation). Rates are per CPU-second
 * of this process (process.cpuUsage), so other load on a shared machine does not lower them;
 * wall-clock rates are given beside them.
 *
 * Usage: node dist/bench/measure-bound.js ISSUER_KEY_PEM [SECONDS]
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface BoundResult {
  privateDecryptPerSecond: number;
  privateDecryptPerWallSecond: number;
  ps256VerifyPerSecond: number;
  seconds: number;
}

function rate(op: () => void, seconds: number): { perCpu: number; perWall: number } {
  for (let i = 0; i < 200; i++) op();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 50; i++) op();
    n += 50;
  }
  const c = process.cpuUsage(c0);
  return {
    perCpu: n / ((c.user + c.system) / 1e6),
    perWall: n / ((performance.now() - t0) / 1000),
  };
}

const key = createPrivateKey(readFileSync(process.argv[2] as string));
const seconds = Number(process.argv[3] ?? 3);
const pub = createPublicKey(key);
const oaep = { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
const wrapped = publicEncrypt(
  { key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
  randomBytes(32),
);
const dec = rate(() => privateDecrypt(oaep, wrapped), seconds);
const data = randomBytes(1200);
const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
const sig = sign('sha256', data, { key, ...pss });
const ver = rate(() => verify('sha256', data, { key: pub, ...pss }, sig), seconds / 3);
const result: BoundResult = {
  privateDecryptPerSecond: Math.round(dec.perCpu),
  privateDecryptPerWallSecond: Math.round(dec.perWall),
  ps256VerifyPerSecond: Math.round(ver.perCpu),
  seconds,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
