import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresDirectoryTemplate, sqliteDirectoryTemplate } from './bank-directory.js';
import type { BenchKeys } from './bench-keys.js';
import { createPostgresDatabase, type DatabaseTemplates } from './bench-storage.js';
import { type BenchTls, benchTls } from './bench-tls.js';
import type { SinkCounts } from './sink-receiver.js';

/** The bank's systems: the sink receiver process, asked for its counts over IPC. */
export interface SinkReceiver {
  /** Its origin; each phase posts under `/PHASE/events` and `/PHASE/alerts`. */
  url: string;
  counts(): Promise<Record<string, SinkCounts>>;
  close(): void;
}

/** What the phases share: TLS files, and for the bank configuration its receiver and databases. */
export interface BenchFixtures {
  tls?: BenchTls | undefined;
  bank?:
    | { receiver: SinkReceiver; webhookSecretFile: string; templates: DatabaseTemplates }
    | undefined;
}

async function startSinkReceiver(): Promise<SinkReceiver> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./sink-receiver.js', import.meta.url)),
    [],
    { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url?: string }) => resolve(m.url!));
    child.once('exit', (code) => reject(new Error(`sink receiver exited with ${code}`)));
  });
  return {
    url,
    counts: () =>
      new Promise((resolve) => {
        const on = (m: { type?: string; counts?: Record<string, SinkCounts> }) => {
          if (m.type !== 'counts') return;
          child.off('message', on);
          resolve(m.counts!);
        };
        child.on('message', on);
        child.send({ type: 'counts' });
      }),
    close: () => child.disconnect(),
  };
}

/** The Standard Webhooks secret of the bench's sink and alerts (made once, beside the keys). */
export function benchWebhookSecret(keys: BenchKeys): string {
  const file = join(keys.dir, 'webhook-secret');
  if (!existsSync(file)) {
    writeFileSync(file, `whsec_${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return file;
}

/**
 * Makes (or finds in `cacheDir`) what the asked-for phases need. With `bank`: the webhook secret,
 * the sink receiver, and the imported directory as a SQLite template and, when `storage` is a
 * PostgreSQL URL, as a template database (dropped by `close`).
 */
export async function benchFixtures(
  keys: BenchKeys,
  cacheDir: string,
  storage: string,
  need: { bank: boolean; tls: boolean; postgres?: string | undefined },
  log: (s: string) => void,
): Promise<BenchFixtures & { close(): Promise<void> }> {
  const tls = need.tls ? await benchTls(join(cacheDir, 'keys', 'tls')) : undefined;
  if (!need.bank) return { tls, close: async () => {} };
  const webhookSecretFile = benchWebhookSecret(keys);
  const sqlite = await sqliteDirectoryTemplate(keys, cacheDir, log);
  const pgAdmin = need.postgres ?? (storage === 'sqlite' ? undefined : storage);
  const postgres = pgAdmin ? await createPostgresDatabase(pgAdmin) : undefined;
  try {
    if (postgres) await postgresDirectoryTemplate(postgres.url, keys, log);
  } catch (e) {
    await postgres?.drop();
    throw e;
  }
  const receiver = await startSinkReceiver();
  return {
    tls,
    bank: {
      receiver,
      webhookSecretFile,
      templates: { sqlite, postgres: postgres?.name },
    },
    async close() {
      receiver.close();
      await postgres?.drop();
    },
  };
}
