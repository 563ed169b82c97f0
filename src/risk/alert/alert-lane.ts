import type { Config } from '../../config/config-schema.js';
import type { WorkerLane } from '../../delivery/delivery-worker.js';
import { logSecretWarnings, secretContext } from '../../keys/resolve-secret.js';
import type { Logger } from '../../logger.js';
import type { DataProtector } from '../../protect/data-protector.js';
import { ALERT_DESTINATION } from '../../storage/outbox-store.js';
import { alertDestination } from './alert-destination.js';
import { createAlertChannel } from './create-alert-channel.js';

/** Cardholder alerts are on: risk assessment runs and `risk.alert` names a channel. */
export function alertsConfigured(config: Config): boolean {
  return config.risk.enabled && config.risk.alert?.sink !== undefined;
}

/**
 * The outbox worker's lane for cardholder alerts (`risk.alert`: its channel, its retry policy,
 * the channel's concurrency), the channel's secrets read now; undefined when alerts are off.
 * @throws ConfigError when a secret of the channel is missing or malformed.
 */
export function createAlertLane(
  config: Config,
  dataProtector: DataProtector,
  logger: Logger,
): WorkerLane | undefined {
  const alert = config.risk.alert;
  if (!alertsConfigured(config) || alert === undefined) return undefined;
  const ctx = secretContext(config);
  const sink = createAlertChannel(config, ctx);
  logSecretWarnings(logger, ctx.warnings);
  if (sink === undefined) return undefined;
  return {
    destination: alertDestination(ALERT_DESTINATION, sink, alert, dataProtector),
    retry: alert.retry,
    concurrency: sink.concurrency,
  };
}
