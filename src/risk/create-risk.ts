import type { Config } from '../config/config-schema.js';
import { logSecretWarnings, resolveSecret, type SecretContext } from '../keys/resolve-secret.js';
import type { Logger } from '../logger.js';
import type { DataProtector } from '../protect/data-protector.js';
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
  d: Config['directory'],
  stores: RiskStores,
  dataProtector: DataProtector,
  ctx: SecretContext,
): CardholderDirectory {
  if (d.type === 'local') return new LocalDirectory(stores.cardholders, dataProtector);
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
 * Wires the risk stores, directory and service from their slices of the configuration;
 * undefined when `risk.enabled` is false. Alerts the service queues leave through the outbox
 * (`alert/alert-destination.ts`), woken with `onAssessed`. The directory's secret is read once
 * here, with `ctx`; loose files allowed by allowInsecureKeyPermissions are logged at error level.
 */
export async function createRisk(
  slice: { risk: Config['risk']; directory: Config['directory'] },
  ctx: SecretContext,
  dataProtector: DataProtector,
  store: NotificationStore,
  logger: Logger,
  options: { onAssessed?: () => void } = {},
): Promise<RiskRuntime | undefined> {
  if (!slice.risk.enabled) return undefined;
  const stores = store.openRiskStores();
  const directory = createDirectory(slice.directory, stores, dataProtector, ctx);
  logSecretWarnings(logger, ctx.warnings);
  const service = new RiskService({
    store: stores.risk,
    directory,
    dataProtector,
    settings: slice.risk,
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
