import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BenchKeys } from './bench-keys.js';

/** Bump when the payload generator or encoder options change: old caches are then ignored. */
const GENERATOR_VERSION = 2;

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
  return lineOffsets(file).length - 1;
}

/**
 * Byte offsets of the start of every line of a set file, and one past its end (the offsets of
 * a file of several hundred thousand lines; kept beside it, made anew when the file changed size).
 */
function lineOffsets(file: string): Float64Array {
  const idx = `${file}.idx`;
  const size = statSync(file).size;
  if (existsSync(idx)) {
    const b = readFileSync(idx);
    const offsets = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    if (offsets[offsets.length - 1] === size) return offsets;
  }
  const starts: number[] = [0];
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(1 << 22);
    for (let pos = 0; pos < size; ) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      for (let i = chunk.indexOf(10); i !== -1 && i < n; i = chunk.indexOf(10, i + 1))
        starts.push(pos + i + 1);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  if (starts[starts.length - 1] !== size) starts.push(size);
  const offsets = Float64Array.from(starts);
  writeFileSync(idx, Buffer.from(offsets.buffer));
  return offsets;
}

/** Lines [from, from + count) of a set file, as views of one buffer of only those bytes. */
export function readNotificationBytes(file: string, from: number, count: number): Buffer[] {
  const offsets = lineOffsets(file);
  if (from + count > offsets.length - 1)
    throw new Error(`${file} holds fewer than ${from + count} notifications`);
  const start = offsets[from]!;
  const bytes = Buffer.alloc(offsets[from + count]! - start);
  const fd = openSync(file, 'r');
  try {
    for (let done = 0; done < bytes.length; )
      done += readSync(fd, bytes, done, bytes.length - done, start + done);
  } finally {
    closeSync(fd);
  }
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const line = bytes.subarray(offsets[from + i]! - start, offsets[from + i + 1]! - start - 1);
    if (line.length === 0) throw new Error(`${file}: line ${from + i} is empty`);
    out.push(line);
  }
  return out;
}

/** Lines [from, from + count) of a set file. */
export function readNotifications(file: string, from: number, count: number): string[] {
  return readNotificationBytes(file, from, count).map((b) => b.toString('latin1'));
}

/** The lines at `indices` of a set file, in that order. */
export function readNotificationLinesAt(file: string, indices: readonly number[]): Buffer[] {
  const offsets = lineOffsets(file);
  const fd = openSync(file, 'r');
  try {
    return indices.map((i) => {
      if (i + 1 >= offsets.length) throw new Error(`${file} has no line ${i}`);
      const b = Buffer.alloc(offsets[i + 1]! - offsets[i]! - 1);
      readSync(fd, b, 0, b.length, offsets[i]!);
      return b;
    });
  } finally {
    closeSync(fd);
  }
}
