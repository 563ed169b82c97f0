import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Config } from './config/config-schema.js';
import { tlsProtocolOptions } from './config/listen-tls-schema.js';
import { Admission } from './http/admission.js';
import { statusForCode } from './http/status-for-outcome.js';
import { clientErrorHandler, refuseConnection, transportLimits } from './http/transport-limits.js';
import { visaExchange, visaRequestAnswered } from './http/visa-exchange.js';
import { visaRoute } from './http/visa-route.js';
import type { Logger } from './logger.js';
import { serviceMetrics } from './metrics/service-metrics.js';
import type { IssuerPipelines } from './pipeline/issuer-pipelines.js';
import { crlBlocks } from './pki/crl.js';
import type { NotificationStore } from './storage/notification-store.js';

export interface AppDeps {
  config: Config;
  /** Each issuer's pipeline, by the base path of its endpoint. */
  pipelines: IssuerPipelines;
  store: NotificationStore;
  logger: Logger;
  /** False while a token holding decryption keys is unavailable (/readyz answers 503). */
  keysReady?: () => boolean;
  /**
   * TLS session ticket keys (48 bytes) shared by every worker of a cluster, so that a session
   * resumes on whichever worker its next connection lands. Default: Node's, one per process.
   */
  tlsTicketKeys?: Buffer | undefined;
  /** Admission control of the Visa route; default one from `config.listen.admission`. */
  admission?: Admission | undefined;
}

function unroutable(error: { code: string }, req: FastifyRequest, reply: FastifyReply): void {
  const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'ROUTE_NOT_FOUND' : 'BODY_INVALID';
  req.ctp = { code, outcome: 'rejected' };
  void reply.code(statusForCode(code)).send();
}

/**
 * Builds the Visa-facing HTTP app (does not listen). TLS, when configured, asks for a client
 * certificate without failing the handshake, so a missing or foreign certificate gets a 401.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { listen } = deps.config;
  const tls = listen.tls;
  const limits = transportLimits(listen);
  // Passed to http(s).createServer: deadlines Node enforces per connection (see
  // transport-limits.ts).
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  };
  const https = tls
    ? {
        ...serverOptions,
        cert: readFileSync(tls.cert),
        key: readFileSync(tls.key),
        ...(tls.clientCa
          ? { ca: readFileSync(tls.clientCa), requestCert: true, rejectUnauthorized: false }
          : {}),
        // Revoked client certificates then fail `authorized` (a 401): one PEM per CRL, as Node
        // reads only the first of a buffer. Checked at start (load-secrets.ts).
        ...(tls.clientCa && tls.crl ? { crl: crlBlocks(readFileSync(tls.crl, 'utf8')) } : {}),
        // TLS 1.2 and 1.3 only, and under 1.2 only the ECDHE AEAD suites of `tls.ciphers`
        // (listen-tls-schema.ts): Node's defaults also offer static-RSA key exchange and CBC.
        ...tlsProtocolOptions(tls),
        ...(deps.tlsTicketKeys ? { ticketKeys: deps.tlsTicketKeys } : {}),
        // A TCP connection that never completes the handshake (Node's default waits 120 s).
        handshakeTimeout: limits.headersTimeoutMs,
      }
    : null;
  const app = Fastify({
    ...(https ? { https } : { http: serverOptions }),
    loggerInstance: deps.logger,
    // One line per Visa request is written by the onResponse hook below instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: listen.bodyLimitBytes,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    clientErrorHandler: clientErrorHandler(deps.logger),
    // Fastify's own answers to URLs it cannot route (bad %-encoding, a path parameter longer
    // than maxParamLength) carry a JSON body and 414; keep them inside Visa's contract.
    frameworkErrors: unroutable as never,
    // In-flight requests finish on close; new connections are refused by the closed listener.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;

  // A client may shut down its sending side once its request is out (HTTP/1.1 with
  // "Connection: close" allows it). Node's default then ends the connection at once, losing the
  // answer to a request already received and possibly stored; answer it first, then close.
  // (Node's http.Server field behind that choice; its comment cites Squid's half_closed_clients.)
  (app.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // CONNECT has no handler here; Node would drop the socket without an answer.
  app.server.on('connect', (_req: unknown, socket: Socket) => refuseConnection(socket));

  const metrics = serviceMetrics();
  const exchange = visaExchange({
    pipelines: deps.pipelines,
    basePath: deps.config.basePath,
    inspectClientCertificate: Boolean(tls?.clientCa),
    admission: deps.admission ?? new Admission(listen.admission, metrics.inFlight),
  });
  await app.register(visaRoute, {
    exchange,
    basePath: deps.config.basePath,
    bodyLimit: listen.bodyLimitBytes,
  });
  // A callback hook, not an async one: no promise per request for a function that never waits.
  app.addHook('onResponse', (req, reply, done) => {
    // (health checks and the like are not Visa traffic)
    // `ctp` is decorated inside the Visa route's plugin: undefined on routes outside it.
    if (req.ctp)
      visaRequestAnswered(
        req.log,
        metrics,
        req.method,
        reply.statusCode,
        req.ctp,
        reply.elapsedTime,
      );
    done();
  });
  app.get('/healthz', async (_req, reply) => reply.code(200).send());
  app.get('/readyz', async (_req, reply) => {
    if (deps.keysReady && !deps.keysReady()) return reply.code(503).send();
    try {
      await deps.store.ping();
      return reply.code(200).send();
    } catch {
      return reply.code(503).send();
    }
  });
  return app;
}
