import type { Config } from '../config/config-schema.js';
import type { Secrets } from '../keys/load-secrets.js';
import {
  logSecretWarnings,
  resolveSecret,
  type SecretContext,
  secretContext,
} from '../keys/resolve-secret.js';
import type { Logger } from '../logger.js';
import type { NotificationStore } from '../storage/notification-store.js';
import type { RiskStores } from '../storage/risk-store.js';
import type { CardholderDirectory } from './directory/cardholder.js';
import { HttpDirectory } from './directory/http-directory.js';
import { LocalDirectory } from './directory/local-directory.js';
import { RiskService } from './risk-service.js';

export interface RiskRuntime {
  stores: RiskStores;
  service: RiskService;
  /** Starts the sweep (serve does; one-shot commands do not). */
  start(): void;
  /** Finishes queued assessments. */
  stop(): Promise<void>;
}

/** The directory named by `directory`; its Authorization secret is read with `ctx`. */
export function createDirectory(
  config: Config,
  stores: RiskStores,
  secrets: Secrets,
  ctx: SecretContext,
): CardholderDirectory {
  const d = config.directory;
  if (d.type === 'local') return new LocalDirectory(stores.cardholders, secrets.dataProtector);
  return new HttpDirectory({
    url: d.url,
    timeoutMs: d.timeoutMs,
    cacheSeconds: d.cacheSeconds,
    sendCardNumber: d.sendCardNumber,
    authorization: d.authorization
      ? resolveSecret(d.authorization, '/directory/authorization', ctx)
      : undefined,
    ca: d.ca,
  });
}

/**
 * Wires the risk stores, directory and service; undefined when `risk.enabled` is false. Alerts
 * the service queues leave through the outbox (`alert/alert-destination.ts`), woken with
 * `onAssessed`. Secrets are read once here; loose files allowed by allowInsecureKeyPermissions
 * are logged at error level.
 */
export async function createRisk(
  config: Config,
  secrets: Secrets,
  store: NotificationStore,
  logger: Logger,
  options: { env?: NodeJS.ProcessEnv; onAssessed?: () => void } = {},
): Promise<RiskRuntime | undefined> {
  if (!config.risk.enabled) return undefined;
  const ctx = secretContext(config, options.env);
  const stores = store.openRiskStores();
  const directory = createDirectory(config, stores, secrets, ctx);
  logSecretWarnings(logger, ctx.warnings);
  const service = new RiskService({
    store: stores.risk,
    directory,
    dataProtector: secrets.dataProtector,
    settings: config.risk,
    logger,
    ...(options.onAssessed ? { onAssessed: options.onAssessed } : {}),
  });
  return {
    stores,
    service,
    start() {
      service.start();
    },
    async stop() {
      await service.stop();
    },
  };
}
