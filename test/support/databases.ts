import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Admin connection to the machine's PostgreSQL (trust auth); override with CTP_TEST_PG_URL. */
export const PG_ADMIN_URL =
  process.env.CTP_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export interface Dialect {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty database for one test (or one suite). */
  create(): Promise<TestDatabase>;
}

const sqlite: Dialect = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'ctp-sqlite-'));
    return {
      url: `sqlite:${join(dir, 'ctp.sqlite')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

const postgres: Dialect = {
  name: 'postgres',
  async create() {
    const name = `ctp_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      drop: async () => {
        const a = new pg.Client({ connectionString: PG_ADMIN_URL });
        await a.connect();
        try {
          await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await a.end();
        }
      },
    };
  },
};

let pgAvailable: Promise<boolean> | undefined;

/** Whether the machine's PostgreSQL answers now (not cached: for waiting on a restart). */
export async function postgresAnswers(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/** Whether the machine's PostgreSQL answers (asked once per process). */
export function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= postgresAnswers();
  return pgAvailable;
}

/**
 * The dialects to run a suite against: SQLite always, PostgreSQL when reachable. Without
 * PostgreSQL a visible line says the PostgreSQL half is skipped; under CI=true it fails instead.
 */
export async function dialects(): Promise<Dialect[]> {
  if (await postgresAvailable()) return [sqlite, postgres];
  if (process.env.CI === 'true')
    throw new Error(`PostgreSQL is required under CI=true but ${PG_ADMIN_URL} does not answer`);
  process.stdout.write(
    `# SKIPPING PostgreSQL variants: ${PG_ADMIN_URL} does not answer (set CI=true to make this a failure)\n`,
  );
  return [sqlite];
}

export { postgres as postgresDialect, sqlite as sqliteDialect };
