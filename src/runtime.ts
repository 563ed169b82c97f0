import type { Config } from './config/config-schema.js';
import type { WorkerLane } from './delivery/delivery-worker.js';
import { TokenDecryptionKey } from './hsm/token-decryption-key.js';
import {
  type IssuerKeys,
  loadIssuerKeys,
  loadSecrets,
  protectorsOf,
  type Secrets,
  soleIssuerKeys,
} from './keys/load-secrets.js';
import { logSecretWarnings, secretContext } from './keys/resolve-secret.js';
import type { Logger } from './logger.js';
import { type ServiceMetrics, serviceMetrics } from './metrics/service-metrics.js';
import type { ClientCertificatePin } from './pipeline/authenticate.js';
import { type IssuerEndpoint, IssuerPipelines } from './pipeline/issuer-pipelines.js';
import { NotificationPipeline } from './pipeline/notification-pipeline.js';
import { checkKeyBindings, checkReloadable } from './reload-issuers.js';
import { createAlertLane } from './risk/alert/alert-lane.js';
import { createRisk, type RiskRuntime } from './risk/create-risk.js';
import type { NotificationStore } from './storage/notification-store.js';
import { openStore } from './storage/open-store.js';
import type { OutboxStore } from './storage/outbox-store.js';
import { traceSettings } from './telemetry/trace-settings.js';
import { startTracing } from './telemetry/tracing.js';

export interface Runtime {
  config: Config;
  secrets: Secrets;
  store: NotificationStore;
  /** The delivery queue, on the store's connection. */
  outbox: OutboxStore;
  /** Each issuer's pipeline, by base path and by issuer. */
  pipelines: IssuerPipelines;
  /** Fraud assessment and alerts; undefined when `risk.enabled` is false. */
  risk: RiskRuntime | undefined;
  /**
   * The outbox worker's lane for cardholder alerts, built (its channel's secrets read) when a
   * worker starts; undefined when alerts are off.
   */
  alertLane(logger: Logger): WorkerLane | undefined;
  /**
   * Serves the issuers of `next` (the configuration file read again) from now on: their keys
   * loaded and checked, their pipelines swapped in; requests in flight finish under the old
   * list. Nothing changes when it throws.
   * @throws ConfigError naming the field: a key that does not load, or a change a reload cannot
   * make (sinks, the token).
   */
  reloadIssuers(next: Config): { issuers: string[]; added: string[]; removed: string[] };
  /** Starts background work (the risk sweep). `serve` calls it; one-shot commands need not. */
  startBackground(): void;
  /** Finishes queued background work, then closes the store. */
  close(): Promise<void>;
}

/**
 * Loads keys, opens (and by default migrates) the store and builds the pipeline: everything
 * `serve`, the worker and the CLI's maintenance commands share.
 */
export async function createRuntime(
  config: Config,
  logger: Logger,
  options: { migrate?: boolean; onDeliveriesQueued?: () => void } = {},
): Promise<Runtime> {
  const metrics = serviceMetrics();
  const secrets = loadSecrets(config, process.env, {
    onTokenFault: (code) => {
      metrics.tokenErrors.inc({ code });
      logger.error({ code: 'KEY_UNAVAILABLE', tokenCode: code }, 'token fault');
    },
  });
  logSecretWarnings(logger, secrets.warnings);
  logTokenKeys(logger, secrets);
  let store: NotificationStore;
  try {
    store = await openStore(config.storage, {
      sinks: config.sinks.filter((s) => s.issuer === undefined).map((s) => s.name),
      issuerSinks: new Map(config.issuers.map((i) => [i.id, i.sinks.map((s) => s.name)])),
      // Deliveries wait for the assessment (so the event carries it), which releases them.
      deliveryHoldMs: config.risk.enabled ? config.risk.deliveryWaitSeconds * 1000 : 0,
      ...(options.onDeliveriesQueued ? { onDeliveriesQueued: options.onDeliveriesQueued } : {}),
    });
  } catch (e) {
    secrets.close();
    throw e;
  }
  try {
    if (options.migrate !== false) await store.migrate();
  } catch (e) {
    await store.close();
    secrets.close();
    throw e;
  }
  // Events carry the risk assessment: deliveries wait for it, up to risk.deliveryWaitSeconds.
  const outbox = store.openOutbox({
    riskWaitMs: config.risk.enabled ? config.risk.deliveryWaitSeconds * 1000 : undefined,
  });
  let risk: RiskRuntime | undefined;
  try {
    risk = await createRisk(
      { risk: config.risk, directory: config.directory },
      secretContext(config),
      // Risk runs for one issuer only (checked at start): the first is the only one then.
      soleIssuerKeys(secrets).dataProtector,
      store,
      logger,
      options.onDeliveriesQueued ? { onAssessed: options.onDeliveriesQueued } : {},
    );
  } catch (e) {
    await store.close();
    secrets.close();
    throw e;
  }
  const endpointsOf = (c: Config, keys: ReadonlyMap<string, IssuerKeys>) =>
    issuerEndpoints(c, keys, secrets, store, risk);
  const pipelines = new IssuerPipelines(endpointsOf(config, secrets.issuers));
  const traces = startTraces(config, secrets, logger, metrics);
  return {
    config,
    secrets,
    store,
    outbox,
    pipelines,
    risk,
    alertLane: (log) =>
      createAlertLane(
        config.risk,
        secretContext(config),
        soleIssuerKeys(secrets).dataProtector,
        log,
      ),
    reloadIssuers(next) {
      // Everything is checked and loaded first; then applied in one synchronous step.
      checkReloadable(config, next);
      const loaded = loadIssuerKeys(next, secrets.token);
      checkKeyBindings(next, loaded.issuers, secrets);
      logSecretWarnings(logger, loaded.warnings);
      const before = new Set(pipelines.issuers);
      pipelines.replace(endpointsOf(next, loaded.issuers));
      secrets.issuers.clear();
      for (const [id, keys] of loaded.issuers) secrets.issuers.set(id, keys);
      secrets.dataKeyring.add(protectorsOf(loaded.issuers));
      config.issuers = next.issuers;
      const after = new Set(pipelines.issuers);
      return {
        issuers: [...after],
        added: [...after].filter((id) => !before.has(id)),
        removed: [...before].filter((id) => !after.has(id)),
      };
    },
    startBackground: () => risk?.start(),
    async close() {
      try {
        await risk?.stop();
        await traces?.stop();
      } finally {
        try {
          await store.close();
        } finally {
          secrets.close();
        }
      }
    },
  };
}

/** The pipeline's pin from `listen.tls.clientCertificate` (fingerprints normalised at load). */
function pinOf(
  pin: NonNullable<Config['listen']['tls']>['clientCertificate'],
): ClientCertificatePin | undefined {
  if (pin === undefined) return undefined;
  return { subject: pin.subject, sha256: pin.sha256 && new Set(pin.sha256) };
}

/** One line per token key at start: where it is and the mechanism the self-test settled on. */
function logTokenKeys(logger: Logger, secrets: Secrets): void {
  for (const [issuer, keys] of secrets.issuers)
    for (const [kid, key] of keys.decryptionKeys) {
      if (key instanceof TokenDecryptionKey)
        logger.info(
          {
            issuer,
            kid,
            token: secrets.token?.description.token,
            label: key.label,
            mechanism: key.mechanism,
          },
          'token key ready',
        );
    }
}

/** Each issuer's endpoint: its pipeline with its keys, over the shared store and Visa's keys. */
function issuerEndpoints(
  config: Config,
  keysByIssuer: ReadonlyMap<string, IssuerKeys>,
  secrets: Secrets,
  store: NotificationStore,
  risk: RiskRuntime | undefined,
): IssuerEndpoint[] {
  return config.issuers.map((issuer) => {
    const keys = keysByIssuer.get(issuer.id) as IssuerKeys;
    const xpt = issuer.auth.xPayToken;
    return {
      issuer: issuer.id,
      basePath: issuer.basePath,
      pipeline: new NotificationPipeline({
        issuer: issuer.id,
        binRanges: issuer.binRanges,
        store,
        verificationKeys: secrets.verificationKeys,
        decryptionKeys: keys.decryptionKeys,
        dataProtector: keys.dataProtector,
        jose: config.jose,
        tokenRequestorIds: issuer.tokenRequestorIds ? new Set(issuer.tokenRequestorIds) : undefined,
        requireClientCertificate: Boolean(config.listen.tls?.clientCa),
        clientCertificatePin: pinOf(config.listen.tls?.clientCertificate),
        xPayToken:
          keys.xPayTokenSecret && xpt
            ? { secret: keys.xPayTokenSecret, skewSeconds: xpt.clockSkewSeconds }
            : undefined,
        onAccepted: risk ? (id) => risk.service.schedule(id) : undefined,
      }),
    };
  });
}

/**
 * Exports this process's traces when `telemetry` (or `OTEL_TRACES_EXPORTER=otlp`) says so; a
 * collector's trouble is a metric and a warning at most once a minute, never a failed request.
 */
function startTraces(
  config: Config,
  secrets: Secrets,
  logger: Logger,
  metrics: ServiceMetrics,
): { stop(): Promise<void> } | undefined {
  const settings = traceSettings(config.telemetry, secrets.telemetryHeaders);
  if (!settings) return undefined;
  let warnedAt = 0;
  const url = new URL(settings.url);
  // Never the URL's user or query: either could hold a credential.
  logger.info(
    { collector: `${url.protocol}//${url.host}${url.pathname}`, protocol: settings.protocol },
    'exporting traces',
  );
  return startTracing(settings, {
    onDropped: (n) => metrics.spansDropped.inc(n),
    warn(message) {
      const now = Date.now();
      if (now - warnedAt < 60_000) return;
      warnedAt = now;
      logger.warn({ code: 'TRACES_NOT_EXPORTED' }, message);
    },
  });
}
