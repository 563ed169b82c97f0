import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { copyDirectoryTemplate } from './bank-directory.js';

export interface BenchDatabase {
  /** `storage.url` for the service's config. */
  url: string;
  /** The SQLite file, when it is one. */
  sqlitePath?: string;
  drop(): Promise<void>;
}

/** Databases holding the bank configuration's imported directory, copied per phase. */
export interface DatabaseTemplates {
  /** A SQLite file. */
  sqlite: string;
  /** A PostgreSQL database name on the `--storage` server. */
  postgres?: string | undefined;
}

async function admin<T>(adminUrl: string, run: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await run(c);
  } finally {
    await c.end();
  }
}

/** A new database `ctp_bench_<hex>` on the server of `adminUrl` (a copy of `template` if given). */
export async function createPostgresDatabase(
  adminUrl: string,
  template?: string,
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `ctp_bench_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, (c) =>
    c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`),
  );
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => {},
      ),
  };
}

/**
 * A fresh database for one phase: `sqlite` is a file in a new folder under `dir`; a
 * `postgres://` URL names the admin database of a server, on which a database `ctp_bench_<hex>`
 * is created, then dropped by `drop()`. With `templates`, it starts as a copy of the template
 * (the bank configuration's directory); otherwise empty.
 */
export async function createBenchDatabase(
  storage: string,
  dir: string,
  templates?: DatabaseTemplates,
): Promise<BenchDatabase> {
  if (storage === 'sqlite') {
    const folder = join(dir, `db-${randomBytes(4).toString('hex')}`);
    mkdirSync(folder, { recursive: true });
    const path = join(folder, 'ctp.sqlite');
    if (templates) copyDirectoryTemplate(templates.sqlite, path);
    return {
      url: `sqlite:${path}`,
      sqlitePath: path,
      drop: async () => rmSync(folder, { recursive: true, force: true }),
    };
  }
  if (!/^postgres(ql)?:\/\//.test(storage))
    throw new Error(`--storage must be "sqlite" or a postgres:// URL, not ${storage}`);
  if (templates && !templates.postgres) throw new Error('no PostgreSQL directory template');
  const db = await createPostgresDatabase(storage, templates?.postgres);
  return { url: db.url, drop: db.drop };
}
