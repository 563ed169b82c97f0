import { readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/config-schema.js';
import type { Secrets } from '../config/load-secrets.js';
import { parseWebhookSecret } from '../delivery/standard-webhooks.js';
import { ConfigError } from '../errors.js';
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

/** A secret by file (owner-only, like every key file) or environment variable. */
export function readSecretRef(ref: { file?: string | undefined; env?: string | undefined }, field: string, config: Config, env: NodeJS.ProcessEnv): string {
  if (ref.file !== undefined) {
    let mode: number;
    try {
      mode = statSync(ref.file).mode;
    } catch {
      throw new ConfigError(`${field}/file`, `cannot read ${ref.file}`);
    }
    if ((mode & 0o077) !== 0 && !config.allowInsecureKeyPermissions) {
      throw new ConfigError(`${field}/file`, `${ref.file} is readable by group or others (chmod 600, or set allowInsecureKeyPermissions)`);
    }
    return readFileSync(ref.file, 'utf8').trim();
  }
  const v = env[ref.env as string];
  if (!v) throw new ConfigError(`${field}/env`, `environment variable ${ref.env} is not set`);
  return v.trim();
}

/** The directory named by `directory`. */
export function createDirectory(config: Config, stores: RiskStores, secrets: Secrets, env: NodeJS.ProcessEnv = process.env): CardholderDirectory {
  const d = config.directory;
  if (d.type === 'local') return new LocalDirectory(stores.cardholders, secrets.dataProtector);
  return new HttpDirectory({
    url: d.url,
    timeoutMs: d.timeoutMs,
    cacheSeconds: d.cacheSeconds,
    sendCardNumber: d.sendCardNumber,
    authorization: d.authorization ? readSecretRef(d.authorization, '/directory/authorization', config, env) : undefined,
    ca: d.ca,
  });
}

function createSink(config: Config, env: NodeJS.ProcessEnv): AlertSink | undefined {
  const sink = config.risk.alert?.sink;
  if (sink === undefined) return undefined;
  if (sink.type === 'email') {
    return new EmailAlertSink({
      ...sink,
      password: sink.password ? readSecretRef(sink.password, '/risk/alert/sink/password', config, env) : undefined,
    });
  }
  return new WebhookAlertSink({
    url: sink.url,
    timeoutMs: sink.timeoutMs,
    keys: sink.secrets.map((s, i) => {
      const field = `/risk/alert/sink/secrets/${i}`;
      try {
        return parseWebhookSecret(readSecretRef(s, field, config, env));
      } catch (e) {
        throw e instanceof ConfigError ? e : new ConfigError(field, (e as Error).message);
      }
    }),
  });
}

/** Wires the risk stores, directory, service and alert sender; undefined when `risk.enabled` is false. */
export async function createRisk(
  config: Config,
  secrets: Secrets,
  store: NotificationStore,
  logger: Logger,
  options: { env?: NodeJS.ProcessEnv; onAssessed?: () => void } = {},
): Promise<RiskRuntime | undefined> {
  const env = options.env ?? process.env;
  if (!config.risk.enabled) return undefined;
  const stores = store.openRiskStores();
  const sink = createSink(config, env);
  const sender =
    sink && config.risk.alert ? new AlertSender({ store: stores.alerts, sink, dataProtector: secrets.dataProtector, config: config.risk.alert, logger }) : undefined;
  const service = new RiskService({
    store: stores.risk,
    directory: createDirectory(config, stores, secrets, env),
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
