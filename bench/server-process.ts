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

/** What the service under test is configured to do, beyond receiving. */
export interface ServiceProfile {
  /** Risk assessment of every accepted notification after its 200 (the default), or off. */
  risk: boolean;
  /**
   * The bank configuration: the imported directory (in the database the phase starts from),
   * cardholder alerts to a webhook, one webhook sink for every event, all to `receiverUrl`.
   */
  bank?: { receiverUrl: string; webhookSecretFile: string } | undefined;
  /** HTTPS with client certificates issued by `clientCa` (mutual TLS). */
  tls?: { cert: string; key: string; clientCa: string } | undefined;
  /** Merged into `listen` (e.g. admission settings under test). */
  listen?: Record<string, unknown> | undefined;
  /** The issuer key in this token instead of its PEM file (the `hsm` block and the key's ref). */
  token?: Pick<BenchToken, 'hsm' | 'keyRef'> | undefined;
  /** Changes the config object before it is written. */
  configure?: ((config: Record<string, unknown>) => void) | undefined;
}

/**
 * The service's config as a bank would write it, for the bench keys. `risk: false` leaves the
 * receive path the throughput targets are about; `bank` adds what a bank runs beside it.
 */
export function writeServiceConfig(
  dir: string,
  keys: BenchKeys,
  storageUrl: string,
  port: number,
  profile: ServiceProfile,
): string {
  const path = join(dir, 'config.json');
  const bank = profile.bank;
  const secret = bank && [{ file: bank.webhookSecretFile }];
  const config: Record<string, unknown> = {
    listen: {
      host: '127.0.0.1',
      port,
      ...(profile.tls ? { tls: profile.tls } : {}),
      ...profile.listen,
    },
    storage: { url: storageUrl },
    keys: {
      decryption: [
        profile.token
          ? { kid: BENCH_KIDS.issuer, hsm: profile.token.keyRef }
          : { kid: BENCH_KIDS.issuer, privateKey: keys.issuerKeyFile },
      ],
      verification: [{ kid: BENCH_KIDS.visa, certificate: keys.visaSpkiFile }],
    },
    dataProtection: {
      keys: [{ id: 'bench1', file: keys.dataKeyFile }],
      fingerprintKey: { file: keys.fingerprintKeyFile },
    },
    log: { level: 'info' },
    ...(profile.token ? { hsm: profile.token.hsm } : {}),
    ...(!profile.risk
      ? { risk: { enabled: false } }
      : bank
        ? {
            directory: { type: 'local' },
            risk: {
              defaultCountry: 'GB',
              alert: {
                minLevel: 'low',
                bankName: 'Example Bank',
                helpContact: 'the number on the back of your card',
                sink: { type: 'webhook', url: `${bank.receiverUrl}/alerts`, secrets: secret },
              },
            },
            sinks: [
              { name: 'bank', type: 'webhook', url: `${bank.receiverUrl}/events`, secrets: secret },
            ],
          }
        : {}),
  };
  profile.configure?.(config);
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
  tls = false,
  env: Record<string, string> = {},
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
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
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
