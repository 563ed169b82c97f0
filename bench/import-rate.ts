/**
 * `npm run bench:import -- [--rows N] [--every N] [--postgres]`: the cardholder import's rate
 * as the directory grows. Writes a CSV of N synthetic cardholders (default 1,000,000) to a
 * temp folder, imports it with the code `ctp-notify cardholders import` runs into a new
 * SQLite database (or a new PostgreSQL database with --postgres), and prints the rate of each
 * slice of `--every` rows (default 100,000), then the whole run. Removes what it made.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataProtector } from '../src/protect/data-protector.js';
import { importCardholders } from '../src/risk/directory/cardholder-import.js';
import { openStore } from '../src/storage/open-store.js';
import { scriptArgs } from './script-args.js';

const a = scriptArgs(
  'usage: npm run bench:import -- [--rows N (default 1000000)] [--every N (default 100000)] [--postgres]',
  { rows: { type: 'string' }, every: { type: 'string' }, postgres: { type: 'boolean' } },
);
const rows = Number(a.rows ?? 1_000_000);
const every = Number(a.every ?? 100_000);

const dir = mkdtempSync(join(tmpdir(), 'ctp-bench-import-'));
let dropDatabase: (() => Promise<void>) | undefined;
try {
  const file = join(dir, 'cardholders.csv');
  const out = createWriteStream(file);
  out.write('accountNumber,firstName,lastName,email,phone,status,language\n');
  for (let i = 0; i < rows; i++) {
    const pan = `4${String(100_000_000_000_000 + i).padStart(15, '0')}`;
    const line = `${pan},Ann${i % 997},Holder${i},holder${i}@bank.example,+4477009${String(i % 100_000).padStart(5, '0')},active,en\n`;
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));

  let url = `sqlite:${join(dir, 'ctp.sqlite')}`;
  if (a.postgres) {
    const admin = process.env.CTP_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `ctp_bench_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    const u = new URL(admin);
    u.pathname = `/${name}`;
    url = u.toString();
    dropDatabase = async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    };
  }
  const store = await openStore({ url, poolSize: 4 } as Parameters<typeof openStore>[0]);
  await store.migrate();
  const dp = new DataProtector([{ id: 'k1', key: randomBytes(32) }], randomBytes(32));
  const started = performance.now();
  let sliceStart = started;
  let sliceRows = 0;
  const slices: { upTo: number; rowsPerSecond: number }[] = [];
  const report = await importCardholders(file, store.openRiskStores().cardholders, dp, {
    defaultCountry: 'GB',
    onProgress: (done) => {
      if (done - sliceRows < every) return;
      const now = performance.now();
      slices.push({
        upTo: done,
        rowsPerSecond: Math.round((done - sliceRows) / ((now - sliceStart) / 1000)),
      });
      console.log(`  rows ${String(done).padStart(9)}: ${slices.at(-1)!.rowsPerSecond} rows/s`);
      sliceStart = now;
      sliceRows = done;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  console.log(
    JSON.stringify({
      database: a.postgres ? 'postgres' : 'sqlite',
      rows: report.rows,
      inserted: report.inserted,
      skipped: report.skipped,
      seconds: Math.round(seconds * 10) / 10,
      rowsPerSecond: Math.round(report.rows / seconds),
      slices,
    }),
  );
} finally {
  await dropDatabase?.();
  rmSync(dir, { recursive: true, force: true });
}
