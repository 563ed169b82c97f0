import type { Config } from '../config/config-schema.js';
import { logSecretWarnings, secretContext } from '../config/resolve-secret.js';
import type { Logger } from '../logger.js';
import { serviceMetrics } from '../metrics/service-metrics.js';
import { alertDestination } from '../risk/alert/alert-destination.js';
import { createAlertSink } from '../risk/alert/create-alert-sink.js';
import type { Runtime } from '../runtime.js';
import { ALERT_DESTINATION } from '../storage/outbox-store.js';
import { createSinks } from './create-sinks.js';
import { type DeliveryOutcome, DeliveryWorker, type WorkerLane } from './delivery-worker.js';
import { eventDestination } from './event-destination.js';

/** Cardholder alerts are on: risk assessment runs and `risk.alert` names a channel. */
export function alertsConfigured(config: Config): boolean {
  return config.risk.enabled && config.risk.alert?.sink !== undefined;
}

/**
 * Builds the outbox worker's lanes (one per configured sink and, when alerts are on, one for the
 * alert channel), loading their secrets, and starts it on the runtime's outbox. Resolves to
 * undefined when there is nothing to send. `eventSinks: false` leaves the sinks out (tests that
 * drain the sinks' deliveries themselves).
 * @throws ConfigError when a sink's or the alert channel's secret is missing or malformed.
 */
export async function startDeliveryWorker(
  rt: Runtime,
  logger: Logger,
  options: {
    workerId?: string;
    onOutcome?: (o: DeliveryOutcome) => void;
    eventSinks?: boolean;
  } = {},
): Promise<DeliveryWorker | undefined> {
  const { config } = rt;
  const log = logger.child({ component: 'delivery' });
  const lanes: WorkerLane[] = [];
  if (options.eventSinks !== false) {
    const sinks = createSinks(config, log);
    for (const [i, sink] of sinks.entries())
      lanes.push({
        destination: eventDestination(sink, rt.secrets.dataProtector),
        retry: config.sinks[i]!.retry,
        concurrency: config.sinks[i]!.concurrency,
      });
  }
  const alert = config.risk.alert;
  if (alertsConfigured(config) && alert) {
    const ctx = secretContext(config);
    const sink = createAlertSink(config, ctx);
    logSecretWarnings(log, ctx.warnings);
    if (sink)
      lanes.push({
        destination: alertDestination(ALERT_DESTINATION, sink, alert, rt.secrets.dataProtector),
        retry: alert.retry,
        concurrency: sink.concurrency,
      });
  }
  if (lanes.length === 0) return undefined;
  const worker = new DeliveryWorker({
    outbox: rt.outbox,
    lanes,
    delivery: config.delivery,
    logger: log,
    ...(options.workerId ? { workerId: options.workerId } : {}),
    // ctp_notify_deliveries_total{sink,result}: result is delivered, retry, dead or sink-disabled.
    onOutcome: (o) => {
      serviceMetrics().deliveries.inc({ sink: o.sink, result: o.outcome });
      options.onOutcome?.(o);
    },
  });
  await worker.start();
  return worker;
}
