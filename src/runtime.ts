import type { Config } from './config/config-schema.js';
import { loadSecrets, type Secrets } from './config/load-secrets.js';
import { logSecretWarnings } from './config/resolve-secret.js';
import type { Logger } from './logger.js';
import { NotificationPipeline } from './pipeline/notification-pipeline.js';
import { createRisk, type RiskRuntime } from './risk/create-risk.js';
import type { NotificationStore } from './storage/notification-store.js';
import { openStore } from './storage/open-store.js';
import type { OutboxStore } from './storage/outbox-store.js';

export interface Runtime {
  config: Config;
  secrets: Secrets;
  store: NotificationStore;
  /** The delivery queue, on the store's connection. */
  outbox: OutboxStore;
  pipeline: NotificationPipeline;
  /** Fraud assessment and alerts; undefined when `risk.enabled` is false. */
  risk: RiskRuntime | undefined;
  /**
   * Starts background work (risk sweep, alert sender). `serve` calls it; one-shot commands need
   * not.
   */
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
  const secrets = loadSecrets(config);
  logSecretWarnings(logger, secrets.warnings);
  const store = await openStore(config.storage, {
    sinks: config.sinks.map((s) => s.name),
    // Deliveries wait for the assessment (so the event carries it), which releases them.
    deliveryHoldMs: config.risk.enabled ? config.risk.deliveryWaitSeconds * 1000 : 0,
    ...(options.onDeliveriesQueued ? { onDeliveriesQueued: options.onDeliveriesQueued } : {}),
  });
  try {
    if (options.migrate !== false) await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  // Events carry the risk assessment: deliveries wait for it, up to risk.deliveryWaitSeconds.
  const outbox = store.openOutbox({
    riskWaitMs: config.risk.enabled ? config.risk.deliveryWaitSeconds * 1000 : undefined,
  });
  let risk: RiskRuntime | undefined;
  try {
    risk = await createRisk(
      config,
      secrets,
      store,
      logger,
      options.onDeliveriesQueued ? { onAssessed: options.onDeliveriesQueued } : {},
    );
  } catch (e) {
    await store.close();
    throw e;
  }
  const pipeline = new NotificationPipeline({
    store,
    verificationKeys: secrets.verificationKeys,
    decryptionKeys: secrets.decryptionKeys,
    dataProtector: secrets.dataProtector,
    jose: config.jose,
    tokenRequestorIds: config.tokenRequestorIds ? new Set(config.tokenRequestorIds) : undefined,
    requireClientCertificate: Boolean(config.listen.tls?.clientCa),
    xPayToken: secrets.xPayTokenSecret
      ? {
          secret: secrets.xPayTokenSecret,
          skewSeconds: config.auth.xPayToken?.clockSkewSeconds ?? 300,
        }
      : undefined,
    onAccepted: risk ? (id) => risk.service.schedule(id) : undefined,
  });
  return {
    config,
    secrets,
    store,
    outbox,
    pipeline,
    risk,
    startBackground: () => risk?.start(),
    async close() {
      try {
        await risk?.stop();
      } finally {
        await store.close();
      }
    },
  };
}
