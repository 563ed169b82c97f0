import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { BenchKeys } from './bench-keys.js';
import { BENCH_KIDS } from './bench-keys.js';
import type { BenchToken } from './bench-token.js';
import { processTree } from './process-tree.js';

export interface RunningServer {
  /** The primary; the process tree under it is what CPU and memory are measured on. */
  pid: number;
  origin: string;
  logFile: string;
  stop(): Promise<void>;
}

/** A free loopback port (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The service's config as a bank would write it, for the bench keys. `risk: true` keeps the
 * default (risk assessment of every accepted notification after its 200); false turns it off,
 * leaving the receive path the throughput targets are about. With `token`, the issuer key is the
 * one in that token instead of the PEM file.
 */
export function writeServiceConfig(
  dir: string,
  keys: BenchKeys,
  storageUrl: string,
  port: number,
  risk = true,
  token?: BenchToken,
): string {
  const path = join(dir, 'config.json');
  const config = {
    listen: { host: '127.0.0.1', port },
    storage: { url: storageUrl },
    keys: {
      decryption: [
        token
          ? { kid: BENCH_KIDS.issuer, hsm: token.keyRef }
          : { kid: BENCH_KIDS.issuer, privateKey: keys.issuerKeyFile },
      ],
      verification: [{ kid: BENCH_KIDS.visa, certificate: keys.visaSpkiFile }],
    },
    dataProtection: {
      keys: [{ id: 'bench1', file: keys.dataKeyFile }],
      fingerprintKey: { file: keys.fingerprintKeyFile },
    },
    log: { level: 'info' },
    ...(risk ? {} : { risk: { enabled: false } }),
    ...(token ? { hsm: token.hsm } : {}),
  };
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/**
 * Starts `node ARGS` with stdout and stderr to `logFile` (the service logs one JSON line per
 * request: that cost is part of what is measured) and resolves once a line with
 * `"msg":"listening"` appears, i.e. every cluster worker listens.
 */
export async function startServer(
  args: string[],
  logFile: string,
  port: number,
  extraNodeArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningServer> {
  const out = openSync(logFile, 'w');
  const child: ChildProcess = spawn(process.execPath, [...extraNodeArgs, ...args], {
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited)
      throw new Error(
        `server exited during start; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`,
      );
    if (readFileSync(logFile, 'utf8').includes('"msg":"listening"')) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start within 60 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = child.pid as number;
  return {
    pid,
    origin: `http://127.0.0.1:${port}`,
    logFile,
    async stop() {
      if (exited) return;
      const tree = processTree(pid);
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const p of tree) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      }, 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
