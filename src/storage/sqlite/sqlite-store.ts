import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StorageError } from '../../errors.js';
import type { CardholderStore } from '../cardholder-store.js';
import type { BackupProgress, BackupResult, StoreOptions } from '../notification-store.js';
import type { OutboxDialect } from '../outbox-dialect.js';
import { SqlCardholderStore } from '../sql-cardholder-store.js';
import type { SqlDriver } from '../sql-driver.js';
import { SqlStore } from '../sql-store.js';
import { backupSqlite } from './sqlite-backup.js';
import { sqliteCardholderUpsert } from './sqlite-cardholder-upsert.js';
import { sqliteMigrations } from './sqlite-migrations.js';
import { sqliteNotificationsDialect, sqliteOutboxDialect } from './sqlite-outbox-dialect.js';
import { sqliteSqlDriver } from './sqlite-sql-driver.js';

interface PendingWrite {
  run: () => unknown;
  /** Needs its commit on disk before it resolves (see `write`). */
  durable: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * Page size of new database files, in bytes (SQLite's default is 4096). A stored notification
 * row is about 2.1 KB, mostly Visa's own `encryptedData`, which is kept as received: two do not
 * fit in 4096 bytes, so at 4096 every row took a page of its own, half empty, and every commit
 * wrote (and every checkpoint copied) a page per notification. At 8192 three rows share a page:
 * the file grows 3.1 KB per notification instead of 4.4 (`npm run bench:stages` shows the
 * store's CPU). Existing files keep their page size (a WAL database cannot change it).
 */
export const SQLITE_PAGE_SIZE = 8192;

export interface SqliteStoreOptions extends StoreOptions {
  /**
   * Milliseconds to wait for another process's write lock, and for a lock when reading. Default
   * 5000.
   */
  busyTimeoutMs?: number;
  now?: () => number;
}

/**
 * The embedded store. Durability: WAL with `synchronous=FULL`, so a commit is on disk before
 * `record` resolves and survives a power cut
 * (https://www.sqlite.org/pragma.html#pragma_synchronous). Throughput: writes that arrive in the
 * same event-loop turn share one transaction and one fsync (group commit). A batch is first tried
 * as one plain transaction; if one of its writes fails, it is rolled back and run again with each
 * write in its own savepoint, so one failure does not undo the others.
 *
 * Several processes (cluster workers) share the file, and SQLite has one writer at a time. The
 * group commit never waits for the lock inside SQLite: SQLite's busy handler sleeps the whole
 * event loop in growing steps (1, 2, 5, 10 … 100 ms), which under two workers put p99 latency in
 * the hundreds of milliseconds. It asks for the lock without waiting and, when another process
 * holds it, retries a millisecond later while the event loop goes on serving; new writes join the
 * waiting batch. After `busyTimeoutMs` without the lock the batch fails.
 */
export class SqliteStore extends SqlStore {
  readonly dialect = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #busyTimeoutMs: number;
  readonly #path: string;
  #queue: PendingWrite[] = [];
  #flushScheduled = false;
  /** When the waiting batch first found the write lock taken. */
  #busySince: number | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    super(options);
    this.#path = path;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.#db = new Database(path);
      // The busy timeout first: switching to WAL needs a lock that another process opening the
      // same file at the same moment may hold, and without a timeout that fails at once.
      this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
      // Before WAL, because a WAL database's page size is fixed once its header is written: this
      // sizes new files and leaves existing ones as they are. See SQLITE_PAGE_SIZE.
      this.#db.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
    } catch (cause) {
      throw new StorageError('cannot open SQLite database', { cause });
    }
    this.#now = options.now ?? Date.now;
  }

  async migrate(): Promise<void> {
    try {
      this.#db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      // BEGIN IMMEDIATE takes SQLite's write lock: two processes starting together serialise here.
      const apply = this.#db.transaction(() => {
        const done = new Set(
          (
            this.#db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]
          ).map((r) => r.version),
        );
        for (const m of sqliteMigrations) {
          if (done.has(m.version)) continue;
          try {
            this.#db.exec(m.sql);
          } catch (cause) {
            throw new StorageError(`SQLite migration ${m.version} (${m.name}) failed`, { cause });
          }
          this.#db
            .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(m.version, m.name, this.#now());
        }
      });
      apply.immediate();
    } catch (cause) {
      throw cause instanceof StorageError
        ? cause
        : new StorageError('SQLite migration failed', { cause });
    }
  }

  async ping(): Promise<void> {
    this.#read(() => this.#db.prepare('SELECT 1').get());
  }

  async close(): Promise<void> {
    clearTimeout(this.#retryTimer);
    // Last writes: wait for the lock inside SQLite (up to busyTimeoutMs) rather than give up.
    if (this.#queue.length > 0) this.#flush(true);
    this.#db.close();
  }

  backup(destination: string, onProgress?: (p: BackupProgress) => void): Promise<BackupResult> {
    if (this.#path === ':memory:')
      throw new StorageError('an in-memory database cannot be backed up');
    return backupSqlite(this.#path, destination, onProgress);
  }

  protected sqlDriver(): SqlDriver {
    return sqliteSqlDriver(this.#db, (run, options) => this.write(run, options));
  }

  protected readonly notificationsDialect = sqliteNotificationsDialect;
  protected readonly poolSize = undefined;

  protected outboxDialect(sql: SqlDriver): OutboxDialect {
    return sqliteOutboxDialect(sql);
  }

  protected cardholderStore(): CardholderStore {
    return new SqlCardholderStore(this.sqlDriver(), sqliteCardholderUpsert);
  }

  /** For the dialect modules sharing this connection (outbox, risk stores) and tests. */
  get database(): Database.Database {
    return this.#db;
  }

  /**
   * Runs `run` in the next group commit (one IMMEDIATE transaction; its own savepoint should
   * another write of the batch fail), for dialect modules sharing this connection (the outbox,
   * risk assessments). Resolves after commit.
   *
   * `durable: false` (default true) is for data the service can derive again, such as risk
   * assessments (the risk sweep redoes any that are missing): a batch holding only such writes
   * commits with synchronous=NORMAL, without waiting for fsync. In WAL mode that cannot corrupt
   * the database, and the next durable commit's fsync covers it too, since the WAL is written
   * in order; only a power cut before that can lose it.
   */
  write<T>(run: () => T, options: { durable?: boolean } = {}): Promise<T> {
    return this.#write(run, options.durable ?? true);
  }

  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw new StorageError('SQLite read failed', { cause });
    }
  }

  /** Queues a write for the next group commit. */
  #write<T>(run: () => T, durable = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, durable, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(blocking = false): void {
    const batch = this.#queue;
    this.#queue = [];
    this.#flushScheduled = false;
    this.#retryTimer = undefined;
    let results: { ok: boolean; value: unknown }[];
    let restoreTimeout = false;
    let restoreSync = false;
    try {
      // The group commit's own lock attempt must not wait inside SQLite (see the class comment).
      // A PRAGMA acts when it is compiled, so it is run afresh each time, not kept prepared.
      if (!blocking) {
        this.#db.pragma('busy_timeout = 0', { simple: true });
        restoreTimeout = true;
      }
      if (!batch.some((w) => w.durable)) {
        this.#db.pragma('synchronous = NORMAL', { simple: true });
        restoreSync = true;
      }
      results = this.#commitOptimistic(batch) ?? this.#commitIsolated(batch);
    } catch (cause) {
      const now = Date.now();
      this.#busySince ??= now;
      if (!blocking && isBusy(cause) && now - this.#busySince < this.#busyTimeoutMs) {
        // Another process holds the write lock: keep the batch (in order, ahead of newer writes)
        // and try again shortly; the event loop is free meanwhile.
        this.#queue = batch.concat(this.#queue);
        this.#flushScheduled = true;
        this.#retryTimer = setTimeout(() => this.#flush(), 1);
        return;
      }
      this.#busySince = undefined;
      const error = new StorageError('SQLite commit failed', { cause });
      for (const w of batch) w.reject(error);
      return;
    } finally {
      if (restoreTimeout)
        this.#db.pragma(`busy_timeout = ${this.#busyTimeoutMs}`, { simple: true });
      if (restoreSync) this.#db.pragma('synchronous = FULL', { simple: true });
    }
    this.#busySince = undefined;
    batch.forEach((w, i) => {
      const r = results[i]!;
      if (r.ok) w.resolve(r.value);
      else
        w.reject(
          r.value instanceof StorageError
            ? r.value
            : new StorageError('SQLite write failed', { cause: r.value }),
        );
    });
  }

  /**
   * The common case: every write of the batch in one transaction, no savepoints (a SAVEPOINT and
   * RELEASE per write cost about a quarter of the insert). Returns undefined, with everything
   * rolled back, when one of the writes threw; a failure to begin or commit is thrown.
   */
  #commitOptimistic(batch: PendingWrite[]): { ok: boolean; value: unknown }[] | undefined {
    const results: { ok: boolean; value: unknown }[] = [];
    const writeFailed = new Error('a write failed');
    try {
      this.#db
        .transaction(() => {
          for (const w of batch) {
            try {
              results.push({ ok: true, value: w.run() });
            } catch {
              throw writeFailed; // rolls the whole batch back
            }
          }
        })
        .immediate();
    } catch (error) {
      if (error === writeFailed) return undefined;
      throw error;
    }
    return results;
  }

  /** After a failed write: the batch again, each write in its own savepoint so it fails alone. */
  #commitIsolated(batch: PendingWrite[]): { ok: boolean; value: unknown }[] {
    const results: { ok: boolean; value: unknown }[] = [];
    this.#db
      .transaction(() => {
        for (const w of batch) {
          try {
            // A nested better-sqlite3 transaction is a SAVEPOINT: a failing write rolls back alone.
            results.push({ ok: true, value: this.#db.transaction(w.run)() });
          } catch (error) {
            results.push({ ok: false, value: error });
          }
        }
      })
      .immediate();
    return results;
  }
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
