import type { Config } from '../../config/config-schema.js';
import type { WorkerLane } from '../../delivery/delivery-worker.js';
import { logSecretWarnings, type SecretContext } from '../../keys/resolve-secret.js';
import type { Logger } from '../../logger.js';
import type { DataProtector } from '../../protect/data-protector.js';
import { ALERT_DESTINATION } from '../../storage/outbox-store.js';
import { alertDestination } from './alert-destination.js';
import { createAlertChannel } from './create-alert-channel.js';

/** Cardholder alerts are on: risk assessment runs and `risk.alert` names a channel. */
export function alertsConfigured(risk: Config['risk']): boolean {
  return risk.enabled && risk.alert?.sink !== undefined;
}

/**
 * The outbox worker's lane for cardholder alerts (`risk.alert`: its channel, its retry policy,
 * the channel's concurrency), the channel's secrets read now with `ctx`; undefined when alerts
 * are off.
 * @throws ConfigError when a secret of the channel is missing or malformed.
 */
export function createAlertLane(
  risk: Config['risk'],
  ctx: SecretContext,
  dataProtector: DataProtector,
  logger: Logger,
): WorkerLane | undefined {
  const alert = risk.alert;
  if (!alertsConfigured(risk) || alert === undefined) return undefined;
  const sink = createAlertChannel(alert, ctx);
  logSecretWarnings(logger, ctx.warnings);
  if (sink === undefined) return undefined;
  return {
    destination: alertDestination(ALERT_DESTINATION, sink, alert, dataProtector),
    retry: alert.retry,
    concurrency: sink.concurrency,
    // An SMTP send is a connection, a greeting and a transfer, each up to timeoutMs.
    attemptMs: alert.sink.timeoutMs * (alert.sink.type === 'email' ? 3 : 1),
  };
}
