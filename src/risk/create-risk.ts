import type { Config } from '../config/config-schema.js';
import { parseWebhookSecret } from '../delivery/standard-webhooks.js';
import { ConfigError } from '../errors.js';
import type { Secrets } from '../keys/load-secrets.js';
import {
  logSecretWarnings,
  resolveSecret,
  type SecretContext,
  secretContext,
  secretField,
} from '../keys/resolve-secret.js';
import type { Logger } from '../logger.js';
import type { NotificationStore } from '../storage/notification-store.js';
import type { RiskStores } from '../storage/risk-store.js';
import { AlertSender } from './alert/alert-sender.js';
import type { AlertSink } from './alert/alert-sink.js';
import { EmailAlertSink } from './alert/email-alert-sink.js';
import { WebhookAlertSink } from './alert/webhook-alert-sink.js';
import type { CardholderDirectory } from './directory/cardholder.js';
import { HttpDirectory } from './directory/http-directory.js';
import { LocalDirectory } from './directory/local-directory.js';
import { RiskService } from './risk-service.js';

export interface RiskRuntime {
  stores: RiskStores;
  service: RiskService;
  /** Present when `risk.alert` is configured. */
  sender: AlertSender | undefined;
  /** Starts the sweep and the alert sender (serve does; one-shot commands do not). */
  start(): void;
  /** Finishes queued assessments and the alert pass in flight. */
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

function createSink(config: Config, ctx: SecretContext): AlertSink | undefined {
  const sink = config.risk.alert?.sink;
  if (sink === undefined) return undefined;
  if (sink.type === 'email') {
    return new EmailAlertSink({
      ...sink,
      password: sink.password
        ? resolveSecret(sink.password, '/risk/alert/sink/password', ctx)
        : undefined,
    });
  }
  return new WebhookAlertSink({
    url: sink.url,
    timeoutMs: sink.timeoutMs,
    keys: sink.secrets.map((s, i) => {
      const field = `/risk/alert/sink/secrets/${i}`;
      try {
        return parseWebhookSecret(resolveSecret(s, field, ctx));
      } catch (e) {
        throw e instanceof ConfigError
          ? e
          : new ConfigError(secretField(s, field), (e as Error).message);
      }
    }),
  });
}

/**
 * Wires the risk stores, directory, service and alert sender; undefined when `risk.enabled` is
 * false. Secrets are read once here; loose files allowed by allowInsecureKeyPermissions are
 * logged at error level.
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
  const sink = createSink(config, ctx);
  const directory = createDirectory(config, stores, secrets, ctx);
  logSecretWarnings(logger, ctx.warnings);
  const sender =
    sink && config.risk.alert
      ? new AlertSender({
          store: stores.alerts,
          sink,
          dataProtector: secrets.dataProtector,
          config: config.risk.alert,
          logger,
        })
      : undefined;
  const service = new RiskService({
    store: stores.risk,
    directory,
    dataProtector: secrets.dataProtector,
    settings: config.risk,
    logger,
    onAlertQueued: () => sender?.kick(),
    ...(options.onAssessed ? { onAssessed: options.onAssessed } : {}),
  });
  return {
    stores,
    service,
    sender,
    start() {
      service.start();
      sender?.start();
    },
    async stop() {
      await service.stop();
      await sender?.stop();
      await sink?.close();
    },
  };
}
