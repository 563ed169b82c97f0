import type { FastifyInstance, RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifySchema {
    /** OpenAPI operation fields, carried on the route's schema. */
    summary?: string;
    description?: string;
    tags?: string[];
  }
}

interface Collected {
  method: string;
  url: string;
  schema: Record<string, unknown>;
  minRole: string | undefined;
}

/**
 * Collects every `/api/` route's TypeBox schemas as they are registered and builds an OpenAPI
 * 3.1 document from them (TypeBox emits JSON Schema, which OpenAPI 3.1 uses as is). Call before
 * registering the routes.
 */
export function collectOpenApi(app: FastifyInstance): () => Record<string, unknown> {
  const routes: Collected[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    if (!r.url.startsWith('/api/') || r.url === '/api/openapi.json') return;
    for (const m of [r.method].flat()) {
      if (m === 'HEAD') continue;
      routes.push({
        method: m.toLowerCase(),
        url: r.url,
        schema: (r.schema ?? {}) as Record<string, unknown>,
        minRole: (r.config as { channelOnly?: boolean } | undefined)?.channelOnly
          ? 'channel'
          : (r.config as { minRole?: string } | undefined)?.minRole,
      });
    }
  });
  let doc: Record<string, unknown> | undefined;
  return () => (doc ??= build(routes));
}

function build(routes: Collected[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const s = r.schema;
    const parameters: unknown[] = [];
    for (const [where, key] of [
      ['path', 'params'],
      ['query', 'querystring'],
    ] as const) {
      const obj = s[key] as
        | { properties?: Record<string, unknown>; required?: string[] }
        | undefined;
      for (const [name, schema] of Object.entries(obj?.properties ?? {})) {
        const { description, ...rest } = schema as { description?: string };
        parameters.push({
          name,
          in: where,
          required: where === 'path' || Boolean(obj?.required?.includes(name)),
          schema: rest,
          ...(description ? { description } : {}),
        });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [code, schema] of Object.entries(
      (s.response as Record<string, unknown> | undefined) ?? { 200: {} },
    )) {
      responses[code] = {
        description: code.startsWith('2') ? 'OK' : 'Error',
        content: { 'application/json': { schema } },
      };
    }
    responses['401'] ??= { description: 'Not signed in and no valid Bearer token' };
    if (r.minRole)
      responses['403'] ??= { description: `Needs the ${r.minRole} role (or CSRF check failed)` };
    paths[path] ??= {};
    paths[path][r.method] = {
      summary: s.summary,
      ...(s.description ? { description: s.description } : {}),
      tags: s.tags,
      ...(parameters.length ? { parameters } : {}),
      ...(s.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } }
        : {}),
      responses,
      'x-min-role': r.minRole ?? 'viewer',
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ctp-notify admin API',
      version: '1',
      description:
        "Operators' API of ctp-notify, on the admin listener only. Authenticate with `Authorization: Bearer <apiToken>` " +
        "(from `ctp-notify operators add`) or the console's session cookie (writes then need `x-csrf-token`). " +
        'Roles: viewer reads; analyst also reprocesses, retries, replays and works fraud cases; admin also manages sinks and operators; ' +
        "channel (the bank's app or messaging system) only posts cardholders' answers to alerts. " +
        'Full card numbers are never returned.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API token of an operator' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'ctp_admin_session',
          description: 'Console session (`__Host-` prefixed under TLS)',
        },
      },
    },
    paths,
  };
}
