import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  postgresAvailable,
  postgresDialect,
  sqliteDialect,
  type TestDatabase,
} from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { testPki } from '../support/test-pki.js';

// The database becomes unreachable or unwritable mid-run. Promise under test: every answer is
// 200 or 500; a 200 only with a durable row (checked through a separate connection at once,
// before any retry could hide a lie); the service recovers by itself; Visa's retries of the
// 500s then store each notification exactly once.

const dedupKey = (encryptedData: string) =>
  createHash('sha256').update(encryptedData).digest('base64url');

/** What the client saw, per envelope, and the check that every 200 is durable. */
class Ledger {
  readonly answers = new Map<string, number[]>();
  constructor(
    private readonly s: TestServer,
    private readonly storedKeys: () => Promise<Map<string, number>>,
  ) {}
  async send(encryptedData?: string): Promise<{ encryptedData: string; status: number }> {
    const e = encryptedData ?? (await this.s.encode(enrollmentPayload()));
    // A partition must become a 500, not a wait: give up well before Visa would.
    const { status } = await this.s.post(
      { encryptedData: e },
      { xPayToken: false, timeoutMs: 15_000 },
    );
    assert.ok(status === 200 || status === 500, `storage fault answered ${status}`);
    this.answers.set(e, [...(this.answers.get(e) ?? []), status]);
    return { encryptedData: e, status };
  }
  async assertAcknowledgedAreDurable(when: string): Promise<void> {
    const stored = await this.storedKeys();
    for (const [e, statuses] of this.answers) {
      if (statuses.includes(200))
        assert.equal(stored.get(dedupKey(e)), 1, `${when}: a 200 without exactly one durable row`);
    }
  }
  /**
   * Visa retries every 500 until it gets a 200; afterwards each envelope is stored exactly once.
   */
  async retryUntilAcknowledged(): Promise<number> {
    let retries = 0;
    for (const [e, statuses] of this.answers) {
      if (statuses.includes(200)) continue;
      retries++;
      assert.equal((await this.send(e)).status, 200, 'a retry after recovery is accepted');
    }
    const stored = await this.storedKeys();
    assert.equal(stored.size, this.answers.size, 'no row that was not sent');
    for (const e of this.answers.keys())
      assert.equal(stored.get(dedupKey(e)), 1, 'stored exactly once');
    return retries;
  }
  summary(): string {
    const all = [...this.answers.values()].flat();
    return `${this.answers.size} notifications, ${all.filter((s) => s === 200).length} answered 200, ${all.filter((s) => s === 500).length} answered 500`;
  }
}

/** Polls with a fresh notification until the service answers 200 again, without any restart. */
async function untilRecovered(l: Ledger, withinMs = 15_000): Promise<number> {
  const started = Date.now();
  for (let attempts = 1; ; attempts++) {
    if ((await l.send()).status === 200) return attempts;
    assert.ok(Date.now() - started < withinMs, 'the service did not recover by itself');
    await sleep(100);
  }
}

describe('storage faults on PostgreSQL (a TCP proxy that drops and partitions)', async () => {
  const available = await postgresAvailable();
  if (!available && process.env.CI === 'true')
    throw new Error('PostgreSQL is required under CI=true');
  if (!available)
    process.stdout.write('# SKIPPING PostgreSQL storage faults: PostgreSQL does not answer\n');
  let db: TestDatabase;
  let proxy: TcpProxy;
  let s: TestServer;
  let direct: pg.Client;
  let ledger: Ledger;

  before(async () => {
    if (!available) return;
    db = await postgresDialect.create();
    const real = new URL(db.url);
    proxy = await new TcpProxy(Number(real.port || 5432), real.hostname).start();
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    s = await startTestServer(await testPki(), {
      storageUrl: viaProxy.toString(),
      extra: { storage: { url: viaProxy.toString(), poolSize: 4, statementTimeoutMs: 1000 } },
    });
    direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    ledger = new Ledger(s, async () => {
      const rows = (
        await direct.query<{ k: string; n: string }>(
          'SELECT dedup_key AS k, count(*) AS n FROM notifications GROUP BY dedup_key',
        )
      ).rows;
      return new Map(rows.map((r) => [r.k, Number(r.n)]));
    });
  });
  after(async () => {
    if (!available) return;
    await s?.close();
    await direct?.end();
    await proxy?.close();
    await db?.drop();
  });

  it('answers 500 while cut off, 200 only with a durable row, recovers by itself, retries stored once', {
    skip: !available,
  }, async () => {
    for (let i = 0; i < 5; i++) assert.equal((await ledger.send()).status, 200);

    proxy.refuse(true);
    proxy.dropAll();
    for (let i = 0; i < 5; i++)
      assert.equal((await ledger.send()).status, 500, 'database unreachable: 500');
    proxy.refuse(false);
    const attemptsAfterDrop = await untilRecovered(ledger);
    await ledger.assertAcknowledgedAreDurable('after a drop');

    // Connections reset in the middle of transactions, commits included.
    for (let round = 0; round < 8; round++) {
      const inFlight = Array.from({ length: 8 }, () => ledger.send());
      await sleep(Math.floor(Math.random() * 40));
      proxy.refuse(true);
      proxy.dropAll();
      await Promise.all(inFlight);
      proxy.refuse(false);
      await ledger.assertAcknowledgedAreDurable(`mid-flight round ${round}`);
    }
    await untilRecovered(ledger);

    // A partition: nothing fails, nothing answers. The client-side deadline must turn it into
    // 500s (not a hang until Visa gives up), and the late answers after it heals must not
    // confuse the pool.
    proxy.partition(true);
    const during = await Promise.all(Array.from({ length: 4 }, () => ledger.send()));
    assert.deepEqual(
      during.map((r) => r.status),
      [500, 500, 500, 500],
    );
    proxy.partition(false);
    const attemptsAfterPartition = await untilRecovered(ledger);
    await ledger.assertAcknowledgedAreDurable('after a partition');

    for (let i = 0; i < 10; i++) assert.equal((await ledger.send()).status, 200, 'healthy again');
    const retries = await ledger.retryUntilAcknowledged();
    process.stdout.write(
      `# storage faults on PostgreSQL: ${ledger.summary()}; recovered after ${attemptsAfterDrop} and ${attemptsAfterPartition} attempts; ` +
        `${retries} retried to 200; ${proxy.connections} connections through the proxy\n`,
    );
  });
});

/** `chattr +i` works here (root on a file system with attributes, such as ext4)? */
function immutableSupported(dir: string): boolean {
  const probe = join(dir, 'probe');
  writeFileSync(probe, 'x');
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

describe('storage faults on SQLite (the database files become immutable)', () => {
  // `chattr +i` makes the kernel refuse every write to the file with EPERM, even through file
  // descriptors already open and even for root (ext4 checks the flag on each write), which is
  // what a full or read-only-remounted disk does to SQLite: SQLITE_IOERR on commit. The -shm
  // index is left alone: it is mmap'ed, and a refused write there would be SIGBUS, not an error.
  const probeDir = mkdtempSync(join(tmpdir(), 'ctp-chattr-'));
  const supported = immutableSupported(probeDir);
  rmSync(probeDir, { recursive: true, force: true });
  if (!supported && process.env.CI === 'true')
    throw new Error('chattr +i is required under CI=true (root on ext4)');
  if (!supported)
    process.stdout.write(
      '# SKIPPING SQLite unwritable-database test: chattr +i is not available here\n',
    );

  let db: TestDatabase;
  let s: TestServer;
  let files: string[];
  let ledger: Ledger;
  const immutable = (on: boolean) =>
    execFileSync('chattr', [on ? '+i' : '-i', ...files.filter(existsSync)]);

  before(async () => {
    if (!supported) return;
    db = await sqliteDialect.create();
    s = await startTestServer(await testPki(), { storageUrl: db.url });
    const path = db.url.slice('sqlite:'.length);
    files = [path, `${path}-wal`];
    ledger = new Ledger(s, async () => {
      const reader = new Database(path, { readonly: true });
      try {
        const rows = reader
          .prepare('SELECT dedup_key AS k, count(*) AS n FROM notifications GROUP BY dedup_key')
          .all() as { k: string; n: number }[];
        return new Map(rows.map((r) => [r.k, r.n]));
      } finally {
        reader.close();
      }
    });
  });
  after(async () => {
    if (!supported) return;
    immutable(false);
    await s?.close();
    await db?.drop();
  });

  it('answers 500 while the files refuse writes, 200 only with a durable row, recovers by itself', {
    skip: !supported,
  }, async () => {
    for (let i = 0; i < 5; i++) assert.equal((await ledger.send()).status, 200);
    try {
      immutable(true);
      for (let i = 0; i < 5; i++)
        assert.equal((await ledger.send()).status, 500, 'unwritable: 500');
      const together = await Promise.all(Array.from({ length: 6 }, () => ledger.send()));
      assert.deepEqual(
        together.map((r) => r.status),
        [500, 500, 500, 500, 500, 500],
        'one group commit, all refused',
      );
    } finally {
      immutable(false);
    }
    const attempts = await untilRecovered(ledger);
    await ledger.assertAcknowledgedAreDurable('after the files became writable again');

    // Writes refused at a random moment while requests are in flight.
    for (let round = 0; round < 8; round++) {
      const inFlight = Array.from({ length: 8 }, () => ledger.send());
      await sleep(Math.floor(Math.random() * 30));
      try {
        immutable(true);
        await Promise.all(inFlight);
      } finally {
        immutable(false);
      }
      await ledger.assertAcknowledgedAreDurable(`mid-flight round ${round}`);
    }
    const retries = await ledger.retryUntilAcknowledged();
    const check = new Database(db.url.slice('sqlite:'.length), { readonly: true });
    assert.equal(
      (check.pragma('integrity_check') as { integrity_check: string }[])[0]?.integrity_check,
      'ok',
    );
    check.close();
    process.stdout.write(
      `# storage faults on SQLite: ${ledger.summary()}; recovered after ${attempts} attempt(s); ${retries} retried to 200; integrity ok\n`,
    );
  });
});
