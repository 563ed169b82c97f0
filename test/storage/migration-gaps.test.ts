import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../../src/storage/open-store.js';
import { postgresMigrations } from '../../src/storage/postgres/postgres-migrations.js';
import { sqliteMigrations } from '../../src/storage/sqlite/sqlite-migrations.js';
import { dialects } from '../support/databases.js';
import { rawSql } from '../support/raw-sql.js';

// Versions are claimed by features developed in parallel (2 outbox, 3 risk, 4 operators): a
// database may have 4 before 2 and 3 exist. The runner must apply whatever is missing.
for (const dialect of await dialects()) {
  describe(`migrations on ${dialect.name}`, () => {
    it('applies versions below one already applied (gaps), keeping existing data', async () => {
      const db = await dialect.create();
      try {
        const seedSql = [
          'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
        ];
        const early = (dialect.name === 'sqlite' ? sqliteMigrations : postgresMigrations).filter(
          (m) => m.version === 1 || m.version === 4,
        );
        if (dialect.name === 'sqlite') {
          const raw = new Database(db.url.slice('sqlite:'.length));
          raw.exec(seedSql[0]!);
          for (const m of early) {
            raw.exec(m.sql);
            raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 0);
          }
          raw
            .prepare(
              "INSERT INTO audit_log (at, actor, action, outcome) VALUES (1, 'before', 'x', 'ok')",
            )
            .run();
          raw.close();
        } else {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          await c.query(seedSql[0]!);
          for (const m of early) {
            await c.query(m.sql);
            await c.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [
              m.version,
              m.name,
              0,
            ]);
          }
          await c.query(
            "INSERT INTO audit_log (at, actor, action, outcome) VALUES (1, 'before', 'x', 'ok')",
          );
          await c.end();
        }
        const store = await openStore({ url: db.url, poolSize: 2, statementTimeoutMs: 5000 });
        try {
          await store.migrate();
          await store.migrate(); // idempotent
          const sql = rawSql(store);
          const versions = (
            await sql.all<{ version: number }>(
              'SELECT version FROM schema_migrations ORDER BY version',
            )
          ).map((r) => Number(r.version));
          // Every version the code knows (5 is retention), whatever was applied before.
          assert.deepEqual(
            versions,
            (dialect.name === 'sqlite' ? sqliteMigrations : postgresMigrations).map(
              (m) => m.version,
            ),
          );
          assert.equal((await sql.all('SELECT actor FROM audit_log'))[0]?.actor, 'before');
        } finally {
          await store.close();
        }
      } finally {
        await db.drop();
      }
    });

    it('version 6 keeps operators and their console sessions (SQLite rebuilds the table)', async () => {
      const db = await dialect.create();
      try {
        const upTo5 = (dialect.name === 'sqlite' ? sqliteMigrations : postgresMigrations).filter(
          (m) => m.version <= 5,
        );
        const seed = [
          'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
          ...upTo5.map((m) => m.sql),
          "INSERT INTO operators (id, name, role, password_hash, token_hash, created_at) VALUES ('op1', 'ada', 'admin', 'h', 't', 1)",
          "INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ('s1', 'op1', 'c', 1, 1, 9999999999999)",
        ];
        if (dialect.name === 'sqlite') {
          const raw = new Database(db.url.slice('sqlite:'.length));
          for (const sql of seed) raw.exec(sql);
          for (const m of upTo5)
            raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 0);
          raw.close();
        } else {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          for (const sql of seed) await c.query(sql);
          for (const m of upTo5)
            await c.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [
              m.version,
              m.name,
              0,
            ]);
          await c.end();
        }
        const store = await openStore({ url: db.url, poolSize: 2, statementTimeoutMs: 5000 });
        try {
          await store.migrate();
          const ops = store.openAdminStores().operators;
          assert.equal((await ops.session('s1', 2))?.operator.name, 'ada', 'still signed in');
          assert.equal(
            (await store.openAdminStores().tokens.operatorOf('t', 2))?.role,
            'admin',
            'the token from before moved into api_tokens',
          );
          const sql = rawSql(store);
          await sql.run(
            "INSERT INTO operators (id, name, role, password_hash, token_hash, created_at) VALUES ('op2', 'app', 'channel', 'h', 't2', 1)",
          );
          await assert.rejects(
            sql.run(
              "INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ('s2', 'nobody', 'c', 1, 1, 2)",
            ),
            'the sessions still reference operators',
          );
        } finally {
          await store.close();
        }
      } finally {
        await db.drop();
      }
    });
  });
}
