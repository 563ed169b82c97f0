import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Client } from 'undici';
import type { Role } from '../../src/domain/roles.js';
import { type AdminTestEnv, startAdminEnv } from '../support/admin-harness.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { spellings } from '../support/path-spellings.js';
import { PUBLIC_ADMIN_ROUTES } from '../support/public-admin-routes.js';
import { routerRoutes } from '../support/router-routes.js';

/**
 * Deny by default, walked as an attacker would: every route the router has, under many
 * spellings of its path, with no credentials and with each role's token. A route's rule comes
 * from the OpenAPI document (`x-min-role`), which must list every `/api` route the router has.
 */

const PUBLIC = PUBLIC_ADMIN_ROUTES;

/**
 * The role each API route needs, written here and not read from the routes: a route that loses
 * its `minRole` (and so falls back to viewer) fails the walk instead of redefining it.
 */
const EXPECTED_ROLE: Record<string, string> = {
  'GET /api/me': 'viewer',
  'GET /api/notifications': 'viewer',
  'POST /api/notifications/search': 'viewer',
  'GET /api/notifications/:id': 'viewer',
  'POST /api/notifications/:id/reprocess': 'analyst',
  'GET /api/keys': 'viewer',
  'GET /api/audit': 'admin',
  'GET /api/stats': 'viewer',
  'GET /api/operators': 'admin',
  'POST /api/operators': 'admin',
  'POST /api/operators/:name/disable': 'admin',
  'POST /api/operators/:name/enable': 'admin',
  'GET /api/operators/:name/tokens': 'admin',
  'POST /api/operators/:name/tokens': 'admin',
  'POST /api/operators/:name/tokens/:id/revoke': 'admin',
  'GET /api/deliveries': 'viewer',
  'POST /api/deliveries/:id/retry': 'analyst',
  'POST /api/deliveries/retry-dead': 'analyst',
  'GET /api/sinks': 'viewer',
  'POST /api/sinks/:name/replay': 'analyst',
  'POST /api/sinks/:name/disable': 'admin',
  'POST /api/sinks/:name/enable': 'admin',
  'GET /api/cases': 'viewer',
  'GET /api/cases/:id': 'viewer',
  'POST /api/cases/:id/assign': 'analyst',
  'POST /api/cases/:id/notes': 'analyst',
  'POST /api/cases/:id/disposition': 'analyst',
  'POST /api/alerts/:id/answer': 'channel',
  'GET /api/risk/evaluation': 'viewer',
};

type Who = 'anonymous' | Role;
const WHO: Who[] = ['anonymous', 'viewer', 'analyst', 'admin', 'channel'];
const RANK: Record<string, number> = { viewer: 0, analyst: 1, admin: 2 };

function allows(who: Who, minRole: string): boolean {
  if (who === 'anonymous') return false;
  if (minRole === 'channel' || who === 'channel') return who === minRole;
  return RANK[who]! >= RANK[minRole]!;
}

/** A concrete path for a pattern: ids and names of nothing that exists (no write lands). */
function concrete(pattern: string): string {
  return pattern
    .replace(':id', '0190a5b2-0c4d-7e3f-8a9b-0c1d2e3f4a5b')
    .replace(':name', 'no-such-thing');
}

interface Rule {
  method: string;
  pattern: string;
  minRole: string;
  /** What the OpenAPI document says. */
  documented: string;
}

describe('admin routes walked under every spelling, role and none', () => {
  let db: TestDatabase;
  let env: AdminTestEnv;
  let client: Client;
  let rules: Rule[];
  const token = (who: Who) =>
    who === 'anonymous' ? undefined : (env.operators[who] as { apiToken: string }).apiToken;

  async function send(method: string, path: string, who: Who) {
    const headers: Record<string, string> = {};
    const t = token(who);
    if (t) headers.authorization = `Bearer ${t}`;
    const body = method === 'POST' ? '{}' : undefined;
    if (body) headers['content-type'] = 'application/json';
    const res = await client.request({ method: method as 'GET', path, headers, body });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  before(async () => {
    db = await sqliteDialect.create();
    env = await startAdminEnv(db.url);
    client = new Client(env.adminUrl, { pipelining: 1 });
    const doc = (await env.call('GET', '/api/openapi.json')).json as {
      paths: Record<string, Record<string, { 'x-min-role': string }>>;
    };
    rules = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => ({
        method: m.toUpperCase(),
        pattern: path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1'),
        // Walked by the expected role; the first test fails if the document says otherwise.
        minRole:
          EXPECTED_ROLE[`${m.toUpperCase()} ${path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1')}`] ??
          op['x-min-role'],
        documented: op['x-min-role'],
      })),
    );
  });
  after(async () => {
    await client?.close();
    await env?.close();
    await db?.drop();
  });

  it('the OpenAPI document and the public list cover exactly the routes the router has', () => {
    const fromRouter = routerRoutes(env.admin.printRoutes({ commonPrefix: false }))
      .filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    const documented = [...rules.map((r) => `${r.method} ${r.pattern}`), ...PUBLIC].sort();
    assert.ok(fromRouter.length > 20, `router listed ${fromRouter.length} routes`);
    assert.deepEqual(fromRouter, documented);
    for (const r of rules) assert.ok(!PUBLIC.has(`${r.method} ${r.pattern}`));
    // The document states each route's role as this test expects it, route by route.
    assert.deepEqual(
      Object.fromEntries(rules.map((r) => [`${r.method} ${r.pattern}`, r.documented])),
      EXPECTED_ROLE,
    );
  });

  it('canonical paths: 401 without credentials, 403 below the role, served at or above it', async (t) => {
    let tried = 0;
    for (const r of rules) {
      // HEAD is routed with its GET's options: walked too.
      for (const method of r.method === 'GET' ? ['GET', 'HEAD'] : [r.method]) {
        for (const who of WHO) {
          const path = concrete(r.pattern);
          const res = await send(method, path, who);
          tried++;
          const where = `${method} ${path} as ${who}: ${res.status} ${res.text.slice(0, 120)}`;
          assert.equal(res.headers['cache-control'], 'no-store', where);
          if (who === 'anonymous') assert.equal(res.status, 401, where);
          else if (!allows(who, r.minRole)) assert.equal(res.status, 403, where);
          else assert.ok(res.status !== 401 && res.status !== 403 && res.status < 500, where);
        }
      }
    }
    t.diagnostic(`${rules.length} API routes, ${tried} requests on canonical paths`);
  });

  it('every other spelling of every route is 404 for everyone, before any handler', async (t) => {
    const all = [
      ...rules,
      ...[...PUBLIC].map((p) => {
        const [method, pattern] = p.split(' ') as [string, string];
        return { method, pattern, minRole: 'public', documented: 'public' };
      }),
    ];
    let tried = 0;
    let kinds = 0;
    for (const r of all) {
      const variants = spellings(concrete(r.pattern));
      kinds = Math.max(kinds, variants.length);
      for (const v of variants) {
        for (const who of WHO) {
          const res = await send(r.method, v.path, who);
          tried++;
          const where = `${r.method} ${v.path} (${v.kind}) as ${who}: ${res.status} ${res.text.slice(0, 120)}`;
          assert.equal(res.status, 404, where);
          assert.equal(res.headers['cache-control'], 'no-store', where);
        }
      }
    }
    t.diagnostic(
      `${all.length} routes × up to ${kinds} spellings × ${WHO.length} credentials: ${tried} requests`,
    );
  });

  it('generated spellings never reach a handler the caller may not use (fast-check)', async (t) => {
    let tried = 0;
    const route = fc.constantFrom(...rules);
    const who = fc.constantFrom(...WHO);
    const edits = fc.array(
      fc.record({
        kind: fc.constantFrom(
          'escape',
          'escape-lower',
          'upper',
          'double-slash',
          'dot',
          'dot-dot',
          'semicolon',
          'slash-escape',
          'trailing',
          'backslash',
          'nul',
        ),
        at: fc.nat(),
      }),
      { minLength: 1, maxLength: 4 },
    );
    await fc.assert(
      fc.asyncProperty(route, who, edits, async (r, w, es) => {
        // Edits apply to the route's own segments; a parameter's value stays a valid one.
        const path = concrete(es.reduce((p, e) => edit(p, e.kind, e.at), r.pattern));
        const res = await send(r.method, path, w);
        tried++;
        const where = `${r.method} ${path} as ${w}: ${res.status}`;
        assert.ok(res.status < 500, where);
        assert.equal(res.headers['cache-control'], 'no-store', where);
        if (!allows(w, r.minRole)) assert.ok(res.status >= 400, where);
        if (path !== concrete(r.pattern)) assert.equal(res.status, 404, where);
      }),
      { numRuns: 400 },
    );
    t.diagnostic(`${tried} generated requests`);
  });
});

/**
 * One random edit of a route pattern's spelling (positions wrap around); letters of `:param`
 * segments are left alone, so the result names the same resource.
 */
function edit(path: string, kind: string, at: number): string {
  const inParam = (i: number) => {
    const start = path.lastIndexOf('/', i);
    return path[start + 1] === ':';
  };
  const letters = [...path.matchAll(/[A-Za-z0-9]/g)]
    .map((m) => m.index!)
    .filter((i) => !inParam(i));
  const slashes = [...path.matchAll(/\//g)].map((m) => m.index!);
  const pick = (xs: number[]) => (xs.length ? xs[at % xs.length]! : undefined);
  const splice = (i: number | undefined, drop: number, put: string) =>
    i === undefined ? path : path.slice(0, i) + put + path.slice(i + drop);
  const l = pick(letters);
  const s = pick(slashes);
  const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, '0');
  switch (kind) {
    case 'escape':
      return l === undefined ? path : splice(l, 1, `%${hex(path[l]!).toUpperCase()}`);
    case 'escape-lower':
      return l === undefined ? path : splice(l, 1, `%${hex(path[l]!)}`);
    case 'upper': {
      const firstSegment = letters.filter((i) => i < (path.indexOf('/', 1) + 1 || path.length));
      const u = firstSegment.length ? firstSegment[at % firstSegment.length]! : undefined;
      return u === undefined ? path : splice(u, 1, path[u]!.toUpperCase());
    }
    case 'double-slash':
      return splice(s, 0, '/');
    case 'dot':
      return splice(s, 0, '/.');
    case 'dot-dot':
      return splice(s, 0, '/x/..');
    case 'semicolon':
      return `${path};jsessionid=1`;
    case 'slash-escape':
      return s === undefined || s === 0 ? path : splice(s, 1, at % 2 ? '%2f' : '%2F');
    case 'trailing':
      return `${path}/`;
    case 'backslash':
      return s === undefined || s === 0 ? path : splice(s, 1, '\\');
    default:
      return `${path}%00`;
  }
}
