import { createPrivateKey, createPublicKey } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { encodeVisaMessage } from '../src/visa/visa-encoder.js';
import { BENCH_KIDS } from './bench-keys.js';
import { benchPayload } from './bench-payloads.js';

/**
 * Worker thread: encodes payloads [from, to) as Visa would, in order, and posts the strings back.
 */
interface Job {
  visaPrivateKeyPem: string;
  issuerPublicKeyPem: string;
  from: number;
  to: number;
}

const job = workerData as Job;
const keys = {
  signingKey: createPrivateKey(job.visaPrivateKeyPem),
  signingKid: BENCH_KIDS.visa,
  encryptionKey: createPublicKey(job.issuerPublicKeyPem),
  encryptionKid: BENCH_KIDS.issuer,
};
const out: string[] = [];
for (let i = job.from; i < job.to; i += 8) {
  const batch = [];
  for (let j = i; j < Math.min(i + 8, job.to); j++)
    batch.push(encodeVisaMessage(benchPayload(j), keys));
  out.push(...(await Promise.all(batch)));
}
parentPort?.postMessage(out);
