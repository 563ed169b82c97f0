import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { buildAdminApp } from './admin/admin-app.js';
import { buildApp } from './app.js';
import type { Config } from './config/config-schema.js';
import { loadConfig } from './config/load-config.js';
import { transportWarnings } from './config/transport-warnings.js';
import type { DeliveryWorker } from './delivery/delivery-worker.js';
import { startDeliveryWorker } from './delivery/start-delivery-worker.js';
import { ConfigError } from './errors.js';
import { Admission } from './http/admission.js';
import { ConnectionIntake } from './http/connection-intake.js';
import { SharedListener } from './http/shared-listener.js';
import { loadSecrets } from './keys/load-secrets.js';
import type { Logger } from './logger.js';
import { answerMetricsRequests, serviceMetrics } from './metrics/service-metrics.js';
import { scheduleRetention } from './retention/retention.js';
import { alertsConfigured } from './risk/alert/alert-lane.js';
import { createRuntime, type Runtime } from './runtime.js';
import { openStore } from './storage/open-store.js';

export interface ServeOptions {
  /** Processes serving the listener. Default: `config.workers`, else the number of cores. */
  workers?: number;
  /** Called once the listener is up (single process) or every worker is (cluster). */
  onListening?: (url: string) => void;
  /**
   * Called once the admin listener (console, admin API, metrics) is up, when `config.admin` is set.
   */
  onAdminListening?: (url: string) => void;
  /**
   * The configuration file: on SIGHUP (`systemctl reload`) every process reads it again and
   * serves its issuers (`Runtime.reloadIssuers`). Absent: SIGHUP is ignored.
   */
  configFile?: string;
}

function urlOf(app: FastifyInstance, host: string, fallbackPort: number, tls: boolean): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : fallbackPort;
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Starts the admin listener in this process, when configured. It runs once per `serve`: in the
 * single process, or in the cluster primary (never in the workers, so it is never bound N times).
 */
async function listenAdmin(
  config: Config,
  logger: Logger,
  rt: Runtime,
  options: ServeOptions,
): Promise<FastifyInstance | undefined> {
  if (!config.admin) return undefined;
  const admin = await buildAdminApp({
    config,
    secrets: rt.secrets,
    store: rt.store,
    outbox: rt.outbox,
    pipelines: rt.pipelines,
    logger,
  });
  await admin.listen({ host: config.admin.host, port: config.admin.port });
  const url = urlOf(admin, config.admin.host, config.admin.port, Boolean(config.admin.tls));
  logger.child({}, { level: 'info' }).info({ url }, 'admin listener (console, admin API, metrics)');
  options.onAdminListening?.(url);
  return admin;
}

/**
 * Listens on `config.listen`. With more than one worker, node:cluster forks that many
 * processes sharing the port: RSA decryption is CPU-bound and synchronous, so processes, not
 * threads or async I/O, are what scale it. The primary migrates once, then supervises.
 *
 * The delivery worker (when sinks are configured and `delivery.runInServe`) runs once: in the
 * single process, or in the cluster primary, which serves no requests. So it never runs N
 * times, which matters on SQLite (one worker per database).
 */
export async function serve(
  config: Config,
  logger: Logger,
  options: ServeOptions = {},
): Promise<void> {
  catchReloadSignal();
  const workers = options.workers ?? config.workers ?? availableParallelism();
  // Once per serve: in the single process or the cluster primary, not in every worker.
  if (cluster.isPrimary)
    for (const w of transportWarnings(config)) logger.warn({ code: w.code }, w.message);
  if (workers > 1 && cluster.isPrimary) return supervise(config, logger, workers, options);
  return listen(config, logger, workers === 1, options);
}

/** serve runs the outbox worker: asked to, and there is a sink or an alert channel to send to. */
function deliveryInServe(config: Config): boolean {
  return config.delivery.runInServe && (config.sinks.length > 0 || alertsConfigured(config.risk));
}

async function listen(
  config: Config,
  logger: Logger,
  migrate: boolean,
  options: ServeOptions,
): Promise<void> {
  let worker: DeliveryWorker | undefined;
  // A cluster child tells the primary's worker at once; PostgreSQL also notifies at commit.
  const tellPrimary =
    cluster.isWorker && deliveryInServe(config) && config.storage.url.startsWith('sqlite:');
  const onDeliveriesQueued = cluster.isWorker
    ? tellPrimary
      ? coalesced(() => process.send?.({ type: 'outbox' }))
      : undefined
    : () => worker?.wake();
  const rt = await createRuntime(config, logger, {
    migrate,
    ...(onDeliveriesQueued ? { onDeliveriesQueued } : {}),
  });
  onReload(() => {
    if (options.configFile === undefined)
      logger.warn({ signal: 'SIGHUP' }, 'no configuration file to reload: ignored');
    else reloadIssuers(rt, options.configFile, logger);
  });
  if (!cluster.isWorker && deliveryInServe(config)) worker = await startOrClose(rt, logger);
  const metrics = serviceMetrics();
  const admission = new Admission(config.listen.admission, metrics.inFlight);
  const app = await buildApp({
    config,
    pipelines: rt.pipelines,
    store: rt.store,
    logger,
    keysReady: () => rt.secrets.token?.healthy ?? true,
    tlsTicketKeys: takeTicketKeys(),
    admission,
  });
  // A cluster worker accepts on copies of the primary's listening socket (shared-listener.ts).
  let intake: ConnectionIntake | undefined;
  if (cluster.isWorker) {
    await app.ready();
    intake = new ConnectionIntake({
      server: app.server,
      admission,
      tls: Boolean(config.listen.tls),
      onRefused: () => metrics.connectionsRefused.inc(),
      onError: listenerError(logger),
    });
    await intake.start();
  } else await app.listen({ host: config.listen.host, port: config.listen.port });
  rt.startBackground();
  const retention = config.retention
    ? scheduleRetention(rt.store, config.retention, logger)
    : undefined;
  const url = urlOf(app, config.listen.host, config.listen.port, Boolean(config.listen.tls));
  let admin: FastifyInstance | undefined;
  if (cluster.isWorker) {
    answerMetricsRequests();
    process.send?.({ type: 'listening', url });
  } else {
    announce(logger, { url, dialect: rt.store.dialect, workers: 1 });
    options.onListening?.(url);
    admin = await listenAdmin(config, logger, rt, options);
  }

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    // Stop accepting, let in-flight requests finish (and their commits), then close the store.
    retention?.stop();
    // A worker stops accepting on its copies first. Its server never listened, so closing it
    // closes the idle connections and waits for nothing: then wait for the open ones.
    intake?.stop();
    Promise.all([app.close(), admin?.close()])
      .then(() => intake?.drain(config.listen.requestTimeoutMs))
      .then(() => worker?.stop())
      .then(() => retention?.idle())
      .then(() => rt.close())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error(
          { errType: error instanceof Error ? error.name : typeof error },
          'unclean shutdown',
        );
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

async function supervise(
  config: Config,
  logger: Logger,
  count: number,
  options: ServeOptions,
): Promise<void> {
  // Fail fast, once, on bad keys or an unreachable store, before forking anything. The primary
  // keeps a runtime when it runs the delivery worker or the admin listener (each once per serve).
  let rt: Runtime | undefined;
  let delivery: DeliveryWorker | undefined;
  if (deliveryInServe(config) || config.admin) {
    rt = await createRuntime(config, logger, { onDeliveriesQueued: () => delivery?.wake() });
    if (deliveryInServe(config)) delivery = await startOrClose(rt, logger);
  } else {
    // The self-test of every key (token keys included), then the primary lets its sessions go:
    // each worker opens its own.
    loadSecrets(config).close();
    const store = await openStore(config.storage);
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
  }
  const admin = rt ? await listenAdmin(config, logger, rt, options) : undefined;
  // The primary reloads its own runtime first (the console's reprocessing, the delivery
  // worker's keyring) and passes the signal on only when that worked, so that workers never
  // serve issuers the primary refused.
  onReload(() => {
    const file = options.configFile;
    if (file === undefined) {
      logger.warn({ signal: 'SIGHUP' }, 'no configuration file to reload: ignored');
      return;
    }
    if (rt !== undefined && !reloadIssuers(rt, file, logger)) return;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
  const finish = () => {
    Promise.all([delivery?.stop(), admin?.close()])
      .then(() => rt?.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };

  let stopping = false;
  let listening = 0;
  // One set of TLS session ticket keys for all workers (RFC 5077 §5.5): a session resumes on
  // whichever worker the client's next connection lands. They live as long as this primary.
  const env = config.listen.tls
    ? { [TICKET_KEYS_ENV]: randomBytes(48).toString('base64') }
    : undefined;
  // The primary binds the Visa listener and hands the workers copies (shared-listener.ts).
  const refused = serviceMetrics().connectionsRefused;
  const listener = new SharedListener({
    host: config.listen.host,
    port: config.listen.port,
    initialWorkers: count,
    onRefused: () => refused.inc(),
    onError: listenerError(logger),
  });
  let port: number;
  try {
    port = await listener.open();
  } catch (error) {
    await Promise.all([delivery?.stop(), admin?.close()]);
    await rt?.close();
    throw error;
  }
  const host = config.listen.host;
  const url = `${config.listen.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const workers = () => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  const fork = (): Worker => {
    const worker = cluster.fork({ ...workerEnv(config), ...env });
    listener.add(worker, workers);
    worker.on('message', (m: { type?: string }) => {
      if (m.type === 'outbox') delivery?.wake();
      else if (m.type === 'listening' && ++listening === count)
        void listener.handedOver.then(() => {
          announce(logger, { url, workers: count });
          options.onListening?.(url);
        });
    });
    return worker;
  };
  for (let i = 0; i < count; i++) fork();

  cluster.on('exit', (worker, code, signal) => {
    // A clean exit means the worker was told to stop (e.g. Ctrl-C reaches the whole process
    // group before the primary's own handler runs): treat it as the start of a shutdown.
    if (!stopping && code === 0 && signal === null) stop('SIGTERM');
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) finish();
      return;
    }
    logger.error(
      { workerPid: worker.process.pid, code, signal },
      'worker exited; starting another',
    );
    setTimeout(fork, 500).unref();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down workers');
    listener.close();
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) finish();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

let reloadTarget: (() => void) | undefined;
let reloadPending = false;
let reloadCaught = false;

/**
 * Takes SIGHUP from now on (Node's default would end the process): a signal that arrives before
 * the process can reload (still starting) is kept and acted on once it can. `serve` calls it
 * first thing, in every process of a cluster.
 */
export function catchReloadSignal(): void {
  if (reloadCaught) return;
  reloadCaught = true;
  process.on('SIGHUP', () => {
    if (reloadTarget) reloadTarget();
    else reloadPending = true;
  });
}

/** What SIGHUP does once the process is up; a signal kept while it started is acted on now. */
function onReload(target: () => void): void {
  catchReloadSignal();
  reloadTarget = target;
  if (reloadPending) {
    reloadPending = false;
    target();
  }
}

/**
 * One reload of the issuers; a refused one leaves the running issuers as they were.
 * @returns whether it was applied.
 */
function reloadIssuers(rt: Runtime, file: string, logger: Logger): boolean {
  const m = serviceMetrics();
  try {
    const r = rt.reloadIssuers(loadConfig(file));
    m.reloadFailed.set(0);
    m.reloads.inc({ result: 'ok' });
    logger
      .child({}, { level: 'info' })
      .info({ issuers: r.issuers.length, added: r.added, removed: r.removed }, 'issuers reloaded');
    return true;
  } catch (error) {
    m.reloadFailed.set(1);
    m.reloads.inc({ result: 'refused' });
    logger.error(
      error instanceof ConfigError
        ? { code: 'CONFIG_INVALID', field: error.field, reason: error.message }
        : { code: 'INTERNAL', errType: error instanceof Error ? error.name : typeof error },
      'reload refused: the issuers stay as they were',
    );
    return false;
  }
}

/** How the primary hands its TLS session ticket keys to the workers it forks. */
const TICKET_KEYS_ENV = 'CTP_NOTIFY_TLS_TICKET_KEYS';

/** In a worker: the primary's ticket keys, removed from the environment once read. */
function takeTicketKeys(): Buffer | undefined {
  const v = process.env[TICKET_KEYS_ENV];
  if (v === undefined) return undefined;
  delete process.env[TICKET_KEYS_ENV];
  const keys = Buffer.from(v, 'base64');
  return cluster.isWorker && keys.length === 48 ? keys : undefined;
}

/** A copy of the Visa listener failed to accept (EMFILE and the like): its errno, nothing else. */
function listenerError(logger: Logger): (e: Error) => void {
  return (e) =>
    logger.warn(
      { code: 'LISTENER_ERROR', errCode: (e as NodeJS.ErrnoException).code },
      'listener error',
    );
}

/** The 'listening' line is written whatever the log level: operators and scripts wait for it. */
function announce(logger: Logger, fields: Record<string, unknown>): void {
  logger.child({}, { level: 'info' }).info(fields, 'listening');
}

/** Starts the delivery worker; on failure (a bad sink secret) closes the runtime and rethrows. */
async function startOrClose(rt: Runtime, logger: Logger): Promise<DeliveryWorker | undefined> {
  try {
    return await startDeliveryWorker(rt, logger);
  } catch (error) {
    await rt.close();
    throw error;
  }
}

/**
 * Each token operation holds one of libuv's threads while the HSM answers: a worker gets
 * `hsm.sessions + 2` threads (the default pool is 4), unless UV_THREADPOOL_SIZE is set already.
 */
function workerEnv(config: Config): Record<string, string> {
  if (!config.hsm || process.env.UV_THREADPOOL_SIZE) return {};
  return { UV_THREADPOOL_SIZE: String(Math.max(4, config.hsm.sessions + 2)) };
}

/**
 * `fn` at most once per event-loop turn, however often it is called: a group commit stores
 * many notifications at once, and one message to the primary wakes its worker for all of them.
 */
function coalesced(fn: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      fn();
    });
  };
}
