import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface BenchDatabase {
  /** `storage.url` for the service's config. */
  url: string;
  /** The SQLite file, when it is one. */
  sqlitePath?: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one phase: `sqlite` is a file in a new folder under `dir`; a
 * `postgres://` URL names the admin database of a server, on which a database `ctp_bench_<hex>`
 * is created, then dropped by `drop()`.
 */
export async function createBenchDatabase(storage: string, dir: string): Promise<BenchDatabase> {
  if (storage === 'sqlite') {
    const folder = join(dir, `db-${randomBytes(4).toString('hex')}`);
    mkdirSync(folder, { recursive: true });
    const path = join(folder, 'ctp.sqlite');
    return {
      url: `sqlite:${path}`,
      sqlitePath: path,
      drop: async () => rmSync(folder, { recursive: true, force: true }),
    };
  }
  if (!/^postgres(ql)?:\/\//.test(storage))
    throw new Error(`--storage must be "sqlite" or a postgres:// URL, not ${storage}`);
  const name = `ctp_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: storage });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(storage);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: storage });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
