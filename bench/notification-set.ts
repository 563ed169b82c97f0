import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BenchKeys } from './bench-keys.js';

/** Bump when the payload generator or encoder options change: old caches are then ignored. */
const GENERATOR_VERSION = 1;

/**
 * Returns the path of a file holding at least `count` distinct `encryptedData` values (one per
 * line, JWS PS256 over JWE RSA-OAEP-256/A256GCM, made with jose as Visa would), generating what
 * the cache lacks on every core with worker threads. The cache is keyed by the keys'
 * fingerprint: a set made for other keys is never reused.
 */
export async function notificationSet(
  keys: BenchKeys,
  count: number,
  cacheDir: string,
  log: (s: string) => void,
): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, `notifications-${keys.fingerprint}-v${GENERATOR_VERSION}.txt`);
  const have = existsSync(file) ? countLines(file) : 0;
  if (have >= count) return file;

  const missing = count - have;
  const threads = Math.max(1, Math.min(availableParallelism(), Math.ceil(missing / 500)));
  log(`generating ${missing} notifications on ${threads} threads (cached in ${file})`);
  const t0 = performance.now();
  const per = Math.ceil(missing / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const from = have + t * per;
      const to = Math.min(count, from + per);
      return new Promise<string[]>((resolve, reject) => {
        const w = new Worker(new URL('./generate-worker.js', import.meta.url), {
          execArgv: [],
          workerData: {
            visaPrivateKeyPem: keys.visaPrivateKeyPem,
            issuerPublicKeyPem: keys.issuerPublicKeyPem,
            from,
            to,
          },
        });
        w.once('message', resolve);
        w.once('error', reject);
      });
    }),
  );
  for (const part of parts) if (part.length > 0) appendFileSync(file, `${part.join('\n')}\n`);
  log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return file;
}

function countLines(file: string): number {
  const b = readFileSync(file);
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

/** Reads lines [from, from + count) of a set file. */
export function readNotifications(file: string, from: number, count: number): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out = lines.slice(from, from + count);
  if (out.length !== count || out.some((l) => l === ''))
    throw new Error(`${file} holds fewer than ${from + count} notifications`);
  return out;
}
