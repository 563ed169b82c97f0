import { readFileSync } from 'node:fs';
import { type Span, SpanStatusCode } from '@opentelemetry/api';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { Gauge, Registry } from 'prom-client';
import { tlsProtocolOptions } from '../config/listen-tls-schema.js';
import { transportWarnings } from '../config/transport-warnings.js';
import { processMetricsText } from '../metrics/service-metrics.js';
import { outboxDepths } from '../presenters/sink-presenter.js';
import { alertsConfigured } from '../risk/alert/alert-lane.js';
import { ALERT_DESTINATION } from '../storage/outbox-store.js';
import { startServerSpan } from '../telemetry/tracing.js';
import { type AdminDeps, adminContext } from './admin-context.js';
import { adminRoutes } from './admin-routes.js';
import { answerRoutes } from './answer-routes.js';
import { errorBody, installAuth } from './auth.js';
import { caseRoutes } from './case-routes.js';
import { loadConsoleAssets } from './console-assets.js';
import { deliveryRoutes } from './delivery-routes.js';
import { liveKeyInventory, withStatus } from './key-inventory.js';
import { mfaRoutes } from './mfa-routes.js';
import { notificationRoutes } from './notification-routes.js';
import { oidcRoutes } from './oidc-routes.js';
import { collectOpenApi } from './openapi.js';
import { operatorRoutes } from './operator-routes.js';
import { riskRoutes } from './risk-routes.js';
import { sessionRoutes } from './session-routes.js';
import { tokenRoutes } from './token-routes.js';

export interface AdminAppOptions extends AdminDeps {
  /** Folder of the built console; default `dist/console`. */
  consoleDir?: string;
}

// Content-Security-Policy: only this origin's script and style, no framing, no plugins, forms
// post only here. The console is built without inline script or style for this.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on form posts.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

// HSTS (RFC 6797), sent only over TLS (§7.2: never over plain HTTP; browsers ignore it there).
// A year: a browser that once reached the console over TLS is not talked down to plain HTTP
// between visits. No includeSubDomains: it would bind every host under the admin host's name.
const HSTS = { 'strict-transport-security': 'max-age=31536000' };

/**
 * Builds the operators' listener (does not listen): the console, the admin API under `/api`
 * with its OpenAPI document, Prometheus `/metrics`, `/healthz` and `/readyz`. Separate from
 * Visa's listener by construction: its own Fastify instance, port and (optional) TLS.
 */
export async function buildAdminApp(o: AdminAppOptions): Promise<FastifyInstance> {
  const ctx = adminContext(o);
  const tls = ctx.settings.tls;
  const app = Fastify({
    ...(tls
      ? {
          https: {
            cert: readFileSync(tls.cert),
            key: readFileSync(tls.key),
            // The Visa listener's versions and suites (RFC 9325 §4.2), not Node's defaults.
            ...tlsProtocolOptions(tls),
          },
        }
      : {}),
    loggerInstance: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    requestTimeout: 30_000,
    // Behind a reverse proxy set trustProxy there; directly exposed, the socket address is the
    // truth.
    trustProxy: false,
    // A path the router cannot decode (a malformed escape) is no spelling of any route: the same
    // 404 as every other one, not Fastify's default 400 that echoes the path and skips the hooks.
    frameworkErrors: (_err, _req, reply: FastifyReply) =>
      reply
        .code(404)
        .headers({ ...SECURITY_HEADERS, ...(tls ? HSTS : {}), 'cache-control': 'no-store' })
        .send(errorBody('NOT_FOUND', 'no such route')),
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: false,
      },
    },
  }) as unknown as FastifyInstance;

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 8 * 1024 },
    (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    if (tls) reply.headers(HSTS);
    // Nothing this listener answers may sit in a cache unless its route says so (the console's
    // hashed assets): decided on the response, not on how the path was spelled.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  // A span per admin request when traces are exported: the route, the operator and the role,
  // never the URL, a body or a credential.
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', async (req) => {
    const span = startServerSpan(`${req.method} ${req.routeOptions.url ?? '(no route)'}`);
    if (span) spans.set(req, span);
  });
  app.addHook('onResponse', async (req, reply) => {
    const span = spans.get(req);
    if (!span) return;
    span.setAttributes({
      'http.request.method': req.method,
      'http.route': req.routeOptions.url ?? '',
      'http.response.status_code': reply.statusCode,
      ...(req.operator
        ? { 'ctp.operator_id': req.operator.id, 'ctp.role': req.operator.role }
        : {}),
    });
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  // One line per request: route pattern, never the URL (its query could carry personal data).
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        route: req.routeOptions.url ?? null,
        status: reply.statusCode,
        operator: req.operator?.name ?? null,
        ms: Math.round(reply.elapsedTime),
      },
      'admin request',
    );
  });
  app.setErrorHandler(
    (
      err: { statusCode?: number; code?: string; validation?: unknown; message: string },
      req,
      reply,
    ) => {
      if (err.validation) return reply.code(400).send(errorBody('BAD_REQUEST', err.message));
      if (err.statusCode !== undefined && err.statusCode < 500)
        return reply.code(err.statusCode).send(errorBody(err.code ?? 'BAD_REQUEST', 'bad request'));
      req.log.error({ errType: (err as Error).name, code: err.code }, 'admin request failed');
      return reply
        .code(err.code === 'STORAGE_UNAVAILABLE' ? 503 : 500)
        .send(
          errorBody(
            err.code === 'STORAGE_UNAVAILABLE' ? 'STORAGE_UNAVAILABLE' : 'INTERNAL',
            'the request could not be completed',
          ),
        );
    },
  );
  // The path is not echoed: it is the client's input, and may not be what the router saw.
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).send(errorBody('NOT_FOUND', 'no such route')),
  );

  const openApi = collectOpenApi(app);
  installAuth(app, ctx);

  // Health and metrics: unauthenticated, as a scraper or load balancer expects; bind the admin
  // listener to a management network.
  app.get('/healthz', { config: { public: true } }, async (_req, reply) => reply.code(200).send());
  // The status code says ready or not, as before; the body adds why not and what operators should
  // know of the configuration (codes and fixed text: nothing from the config's values, no secret).
  app.get('/readyz', { config: { public: true } }, async (_req, reply) => {
    const warnings = transportWarnings(ctx.config, {
      clientCrlNextUpdate: ctx.secrets.clientCrlNextUpdate,
      now: ctx.now(),
    });
    if (ctx.secrets.token && !ctx.secrets.token.healthy)
      return reply.code(503).send({ status: 'not ready', reason: 'KEY_UNAVAILABLE', warnings });
    try {
      await ctx.store.ping();
      return reply.code(200).send({ status: 'ready', warnings });
    } catch {
      return reply.code(503).send({ status: 'not ready', reason: 'STORAGE_UNAVAILABLE', warnings });
    }
  });
  const scrapeRegistry = new Registry();
  const inventory = liveKeyInventory(ctx.config, ctx.secrets);
  new Gauge({
    name: 'ctp_notify_key_expiry_days',
    help: 'Days until a certificate expires (negative: expired); keys without a known expiry are not listed',
    labelNames: ['kid', 'use', 'issuer'],
    registers: [scrapeRegistry],
    collect() {
      this.reset();
      for (const k of withStatus(inventory(), ctx.now(), ctx.settings.keyExpiryWarningDays)) {
        if (k.daysLeft !== null)
          this.set({ kid: k.id, use: k.use, issuer: k.issuer ?? '' }, k.daysLeft);
      }
    },
  });
  // Queue depth per destination (each sink, and the cardholder alerts), read from the outbox at
  // scrape time: the truth across processes.
  const destinations = [
    ...ctx.config.sinks.map((s) => s.name),
    ...(alertsConfigured(ctx.config.risk) ? [ALERT_DESTINATION] : []),
  ];
  let depths: ReturnType<typeof outboxDepths> | undefined;
  const depthsNow = () =>
    (depths ??= outboxDepths(ctx.outbox, destinations).finally(() =>
      setTimeout(() => (depths = undefined), 0),
    ));
  new Gauge({
    name: 'ctp_notify_outbox_pending',
    help: 'Messages not yet delivered nor dead (pending or awaiting a retry), per sink; cardholder alerts as sink "alert:cardholder"',
    labelNames: ['sink'],
    registers: [scrapeRegistry],
    async collect() {
      this.reset();
      for (const d of await depthsNow()) this.set({ sink: d.name }, d.open);
    },
  });
  new Gauge({
    name: 'ctp_notify_outbox_oldest_pending_seconds',
    help: 'Age of the oldest message not yet delivered nor dead, per sink (0 when none)',
    labelNames: ['sink'],
    registers: [scrapeRegistry],
    async collect() {
      this.reset();
      const now = ctx.now();
      for (const d of await depthsNow())
        this.set(
          { sink: d.name },
          d.oldestOpen === null ? 0 : Math.max(0, (now - d.oldestOpen) / 1000),
        );
    },
  });
  app.get('/metrics', { config: { public: true } }, async (_req, reply) => {
    const text = `${await processMetricsText()}\n${await scrapeRegistry.metrics()}`;
    return reply.type(scrapeRegistry.contentType).send(text);
  });
  app.get('/api/openapi.json', { config: { public: true } }, async () => openApi());

  await sessionRoutes(app, ctx);
  await mfaRoutes(app, ctx);
  await oidcRoutes(app, ctx);
  await tokenRoutes(app, ctx);
  await notificationRoutes(app, ctx);
  await adminRoutes(app, ctx);
  await operatorRoutes(app, ctx);
  await deliveryRoutes(app, ctx);
  await caseRoutes(app, ctx);
  await answerRoutes(app, ctx);
  await riskRoutes(app, ctx);

  const assets = loadConsoleAssets(o.consoleDir);
  app.get('/', { config: { public: true } }, async (req, reply) => {
    if (req.operator === null || req.session === null)
      return reply.code(303).header('location', '/login').send();
    const index = assets.get('index.html');
    if (!index)
      return reply.code(503).type('text/plain').send('console not built: run npm run build');
    return reply.type(index.type).header('cache-control', 'no-store').send(index.body);
  });
  app.get<{ Params: { name: string } }>(
    '/assets/:name',
    { config: { public: true } },
    async (req, reply) => {
      const a = req.params.name === 'index.html' ? undefined : assets.get(req.params.name);
      if (!a) return reply.code(404).send(errorBody('NOT_FOUND', 'no such asset'));
      return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
    },
  );
  return app;
}
