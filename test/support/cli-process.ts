import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { captureForSuiteScan } from './suite-scan.js';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/**
 * Server logs and CLI output the tests collected for the personal-data scan (operator views
 * such as `notifications list`, which show names by design, are not added).
 */
export const processOutput: string[] = [];
captureForSuiteScan('spawned process output', () => processOutput.join('\n'));

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  if (args[0] !== 'notifications') processOutput.push(r.stdout, r.stderr);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `ctp-notify serve` and resolves when it logs that it listens. */
export function startServerProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line) as { msg?: string; url?: string };
          if (j.msg === 'listening' && j.url) {
            clearTimeout(timer);
            resolve({
              child,
              url: j.url,
              output: () => out,
              async stop(signal = 'SIGTERM') {
                if (child.exitCode === null) child.kill(signal);
                const code = await exited;
                processOutput.push(out);
                return code;
              },
            });
            return;
          }
        } catch {
          /* not a complete JSON line yet */
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      processOutput.push(out);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}
