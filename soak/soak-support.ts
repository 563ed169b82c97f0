import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Agent, request } from 'undici';
import type { Config } from '../src/config/config-schema.js';
import { encodeVisaMessage } from '../src/visa/visa-encoder.js';
import { CLI } from '../test/support/cli-process.js';
import type { Dialect, TestDatabase } from '../test/support/databases.js';
import { enrollmentPayload } from '../test/support/personal-data.js';
import { writeServerConfig } from '../test/support/process-config.js';
import { secretEnv } from '../test/support/secret-env.js';
import { NOTIFICATION_PATH } from '../test/support/server-harness.js';
import type { TestPki } from '../test/support/test-pki.js';

/** Every byte any spawned server wrote, for the personal-data scan at the end. */
export const serverOutput: string[] = [];

export const dedupKey = (encryptedData: string) =>
  createHash('sha256').update(encryptedData).digest('base64url');

/**
 * A `ctp-notify serve --workers 1` child; `listening` resolves with its URL, or undefined if it
 * died first.
 */
export interface ServerChild {
  child: ChildProcess;
  listening: Promise<string | undefined>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

export function spawnServer(configFile: string): ServerChild {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--workers', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      serverOutput.push(out);
      resolve({ code, signal });
    }),
  );
  const listening = new Promise<string | undefined>((resolve) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m =
        /"msg":"listening"[^\n]*"url":"([^"]+)"|"url":"([^"]+)"[^\n]*"msg":"listening"/.exec(out);
      if (m) resolve(m[1] ?? m[2]);
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    void exited.then(() => resolve(undefined));
  });
  return { child, listening, exited, output: () => out };
}

/**
 * What the client (Visa) saw: per envelope, every answer, or 'error' for a connection that died.
 */
export class ClientLedger {
  readonly answers = new Map<string, (number | 'error')[]>();
  record(encryptedData: string, answer: number | 'error'): void {
    const a = this.answers.get(encryptedData);
    if (a) a.push(answer);
    else this.answers.set(encryptedData, [answer]);
  }
  acknowledged(): string[] {
    return [...this.answers].filter(([, a]) => a.includes(200)).map(([e]) => e);
  }
  unacknowledged(): string[] {
    return [...this.answers].filter(([, a]) => !a.includes(200)).map(([e]) => e);
  }
  count(answer: number | 'error'): number {
    let n = 0;
    for (const a of this.answers.values()) n += a.filter((x) => x === answer).length;
    return n;
  }
}

/** Visa's side: genuine notifications, encoded with the test PKI. */
export function visaMessages(pki: TestPki): () => Promise<string> {
  const keys = {
    signingKey: pki.visaSigningKey,
    signingKid: pki.visaKid,
    encryptionKey: pki.issuerPublicKey,
    encryptionKid: pki.issuerKid,
  };
  return () => encodeVisaMessage(enrollmentPayload(), keys);
}

/** One POST as Visa makes it; the answer (or 'error') goes to the ledger. */
export async function postOnce(
  url: string,
  encryptedData: string,
  ledger: ClientLedger,
  agent: Agent,
): Promise<number | 'error'> {
  let answer: number | 'error';
  try {
    const res = await request(`${url}${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ encryptedData }),
      dispatcher: agent,
    });
    await res.body.dump();
    answer = res.statusCode;
  } catch {
    answer = 'error';
  }
  ledger.record(encryptedData, answer);
  return answer;
}

/** Drives load at `concurrency` with fresh notifications until `stop()`, recording every answer. */
export function driveLoad(
  url: string,
  ledger: ClientLedger,
  next: () => Promise<string>,
  concurrency: number,
): { stop(): Promise<void> } {
  const agent = new Agent({
    connections: concurrency,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const encryptedData = await next();
      if (!stopped) await postOnce(url, encryptedData, ledger, agent);
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    async stop() {
      stopped = true;
      await Promise.allSettled(loops);
      await agent.destroy();
    },
  };
}

/**
 * Visa's retries: every envelope without a 200 is sent again until it gets one (bounded rounds).
 */
export async function retryUntilAcknowledged(
  url: string,
  ledger: ClientLedger,
  concurrency = 4,
  rounds = 20,
): Promise<number> {
  const agent = new Agent({
    connections: concurrency,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
  const first = ledger.unacknowledged().length;
  try {
    for (let r = 0; r < rounds && ledger.unacknowledged().length > 0; r++) {
      const queue = ledger.unacknowledged();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let e = queue.shift(); e !== undefined; e = queue.shift())
            await postOnce(url, e, ledger, agent);
        }),
      );
      if (ledger.unacknowledged().length > 0) await sleep(500);
    }
  } finally {
    await agent.destroy();
  }
  return first;
}

/** Rows per dedup key, read straight from the database (the server may be dead). */
export async function storedByDedupKey(
  storageUrl: string,
): Promise<Map<string, { n: number; id: string; status: string }>> {
  const sql =
    'SELECT dedup_key, count(*) AS n, min(id) AS id, min(status) AS status FROM notifications GROUP BY dedup_key';
  let rows: { dedup_key: string; n: number | string; id: string; status: string }[];
  if (storageUrl.startsWith('sqlite:')) {
    const path = storageUrl.slice('sqlite:'.length);
    if (!existsSync(path)) return new Map(); // killed before it created the database
    const db = new Database(path, { readonly: true });
    try {
      rows = db.prepare(sql).all() as typeof rows;
    } catch {
      rows = []; // killed before the first migration: no table yet
    } finally {
      db.close();
    }
  } else {
    const c = new pg.Client({ connectionString: storageUrl });
    await c.connect();
    try {
      rows = (await c.query(sql).catch(() => ({ rows: [] }))).rows as typeof rows;
    } finally {
      await c.end();
    }
  }
  return new Map(rows.map((r) => [r.dedup_key, { n: Number(r.n), id: r.id, status: r.status }]));
}

/** A server config for the soak: one webhook sink at `sinkUrl`, retries fast enough to watch. */
export function soakConfig(
  pki: TestPki,
  db: TestDatabase,
  sinkUrl: string,
  maxDelayMs: number,
): { file: string; config: Config } {
  return writeServerConfig(
    pki,
    // Sinks as the file gives them: the process settles them at start.
    {
      storageUrl: db.url,
      extra: {
        sinks: [
          {
            name: 'soak',
            type: 'webhook',
            url: sinkUrl,
            secrets: [secretEnv(`whsec_${randomBytes(32).toString('base64')}`)],
            includePan: false,
            concurrency: 8,
            timeoutMs: 1000,
            retry: { initialDelayMs: 200, maxDelayMs, maxAttempts: 1000 },
          },
        ],
      },
    },
    (c) => {
      c.log.level = 'info';
      c.delivery = { runInServe: true, pollIntervalMs: 100, leaseMs: 2000 };
    },
  );
}

export type { Dialect };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deliveries per status, and attempts made, read straight from the database. */
export async function deliveryCounts(
  storageUrl: string,
): Promise<{ byStatus: Record<string, number>; attempts: number }> {
  const sql =
    'SELECT status, count(*) AS n, sum(attempts) AS attempts FROM deliveries GROUP BY status';
  let rows: { status: string; n: number | string; attempts: number | string }[];
  if (storageUrl.startsWith('sqlite:')) {
    const db = new Database(storageUrl.slice('sqlite:'.length), { readonly: true });
    try {
      rows = db.prepare(sql).all() as typeof rows;
    } finally {
      db.close();
    }
  } else {
    const c = new pg.Client({ connectionString: storageUrl });
    await c.connect();
    try {
      rows = (await c.query(sql)).rows as typeof rows;
    } finally {
      await c.end();
    }
  }
  return {
    byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
    attempts: rows.reduce((n, r) => n + Number(r.attempts), 0),
  };
}
