import assert from 'node:assert/strict';
import { createServer, type Server, Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { capturedLogs } from './server-harness.js';
import { spillForSuiteScan } from './suite-scan.js';

/** Visa's page lists these and only these. */
export const CONTRACT_STATUSES: readonly number[] = [200, 400, 401, 404, 500];

/**
 * The contract every answer on the Visa listener keeps, whatever was sent: a listed status,
 * an empty body, and only the statuses the input allows (`allowed`).
 */
export function assertContract(
  res: { status: number | undefined; body: string },
  allowed: readonly number[],
  what: string,
): void {
  assert.ok(
    res.status !== undefined && CONTRACT_STATUSES.includes(res.status),
    `${what}: status ${res.status} is not a contract status`,
  );
  assert.equal(res.body, '', `${what}: body must be empty`);
  assert.ok(
    allowed.includes(res.status!),
    `${what}: status ${res.status}, allowed ${allowed.join('/')}`,
  );
}

/** Inputs tried, by kind, for the closing figures. */
export class InputCounter {
  readonly #counts = new Map<string, number>();
  readonly #statuses = new Map<string, number>();
  add(kind: string, n = 1): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + n);
  }
  /** Tallies answers by status (or "no answer"), to show the inputs reached every verdict. */
  answered(status: number | undefined): void {
    const k = status === undefined ? 'no answer' : String(status);
    this.#statuses.set(k, (this.#statuses.get(k) ?? 0) + 1);
  }
  get total(): number {
    return [...this.#counts.values()].reduce((a, b) => a + b, 0);
  }
  toString(): string {
    const statuses = [...this.#statuses]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    return `${this.total} inputs tried (${[...this.#counts].map(([k, n]) => `${k} ${n}`).join(', ')}; answers ${statuses})`;
  }
}

/**
 * Records every outbound TCP connection this process opens (the in-process server included):
 * header members such as `jku`, `x5u` or `jwk` must never make the service fetch anything.
 */
export function spyOnConnections(): { targets: string[]; restore(): void } {
  const targets: string[] = [];
  const original = Socket.prototype.connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    const [first, second] = args as [unknown, unknown];
    if (typeof first === 'object' && first !== null && 'port' in first) {
      const o = first as { host?: string; port: number };
      targets.push(`${o.host ?? 'localhost'}:${o.port}`);
    } else if (Array.isArray(first) && typeof first[0] === 'object' && first[0] !== null) {
      const o = first[0] as { host?: string; port?: number; path?: string };
      targets.push(o.path ?? `${o.host ?? 'localhost'}:${o.port}`);
    } else if (typeof first === 'number' || typeof first === 'string') {
      targets.push(typeof second === 'string' ? `${second}:${first}` : `${first}`);
    }
    return (original as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof Socket.prototype.connect;
  return {
    targets,
    restore: () => {
      Socket.prototype.connect = original;
    },
  };
}

/** A loopback listener that counts (and drops) every connection made to it. */
export async function canaryListener(): Promise<{
  url: string;
  port: number;
  contacts: () => number;
  close(): Promise<void>;
}> {
  let contacts = 0;
  const server: Server = createServer((s) => {
    contacts++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    contacts: () => contacts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * Moves the in-process servers' captured log lines to the suite scan's spill file and empties
 * them: what the test itself keeps would otherwise dominate a heap measurement (each accepted
 * request's log line stays in memory for the scan).
 */
export function spillCapturedLogs(...extra: string[][]): void {
  spillForSuiteScan('in-process server logs', capturedLogs.join(''));
  capturedLogs.length = 0;
  for (const a of extra) a.length = 0;
}

let gc: (() => void) | undefined;

/** Heap and RSS after a full garbage collection, in MiB. */
export function memoryAfterGc(): { heapMiB: number; rssMiB: number } {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 };
}

/** Scales the number of runs (CTP_FUZZ_SCALE, default 1; `npm run soak` uses more). */
export function runs(n: number): number {
  const scale = Number(process.env.CTP_FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
