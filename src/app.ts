import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config/config-schema.js';
import { visaRoute } from './http/visa-route.js';
import type { Logger } from './logger.js';
import { serviceMetrics } from './metrics/service-metrics.js';
import type { NotificationPipeline } from './pipeline/notification-pipeline.js';
import type { NotificationStore } from './storage/notification-store.js';

export interface AppDeps {
  config: Config;
  pipeline: NotificationPipeline;
  store: NotificationStore;
  logger: Logger;
}

/**
 * Builds the Visa-facing HTTP app (does not listen). TLS, when configured, asks for a client
 * certificate without failing the handshake, so a missing or foreign certificate gets a 401.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { listen } = deps.config;
  const tls = listen.tls;
  const https = tls
    ? {
        cert: readFileSync(tls.cert),
        key: readFileSync(tls.key),
        ...(tls.clientCa ? { ca: readFileSync(tls.clientCa), requestCert: true, rejectUnauthorized: false } : {}),
        minVersion: 'TLSv1.2' as const,
      }
    : null;
  const app = Fastify({
    ...(https ? { https } : {}),
    loggerInstance: deps.logger,
    // One line per request is written by the Visa route's onResponse hook instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: listen.bodyLimitBytes,
    requestTimeout: listen.requestTimeoutMs,
    keepAliveTimeout: listen.keepAliveTimeoutMs,
    connectionTimeout: listen.requestTimeoutMs,
    // In-flight requests finish on close; new connections are refused by the closed listener.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;

  await app.register(visaRoute, {
    pipeline: deps.pipeline,
    basePath: deps.config.basePath,
    bodyLimit: listen.bodyLimitBytes,
    inspectClientCertificate: Boolean(tls?.clientCa),
  });
  const metrics = serviceMetrics();
  app.addHook('onResponse', async (req, reply) => {
    if (req.ctp === null) return; // health checks and the like: not Visa traffic
    const outcome = req.ctp.outcome;
    metrics.requests.inc({ outcome, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ outcome }, reply.elapsedTime / 1000);
    if (outcome === 'quarantined' && req.ctp.result === 'inserted') metrics.quarantined.inc();
  });
  app.get('/healthz', async (_req, reply) => reply.code(200).send());
  app.get('/readyz', async (_req, reply) => {
    try {
      await deps.store.ping();
      return reply.code(200).send();
    } catch {
      return reply.code(503).send();
    }
  });
  return app;
}
