import type { Config } from '../config/config-schema.js';
import type { Logger } from '../logger.js';
import { serviceMetrics } from '../metrics/service-metrics.js';
import type { DataDecrypter } from '../protect/data-protector.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import { createSinks } from './create-sinks.js';
import { type DeliveryOutcome, DeliveryWorker, type WorkerLane } from './delivery-worker.js';
import { eventDestination } from './event-destination.js';

/**
 * What the worker takes from the process's runtime (`Runtime` in src/runtime.ts has it), named
 * here so that the sinks' layer does not import the entry file that assembles everything.
 */
export interface DeliveryRuntime {
  config: Config;
  outbox: OutboxStore;
  /** Reads the card number of any issuer's row, for sinks given it (`includePan`). */
  secrets: { dataKeyring: DataDecrypter };
  /** The cardholder alert channel's lane, when alerts are on (built by the risk side). */
  alertLane?(logger: Logger): WorkerLane | undefined;
}

/**
 * Builds the outbox worker's lanes (one per configured sink, loading their secrets, and the
 * alert channel's when alerts are on) and starts it on the runtime's outbox. Resolves to
 * undefined when there is nothing to send. `eventSinks: false` leaves the sinks out (tests that
 * look at the sinks' deliveries themselves).
 * @throws ConfigError when a sink's or the alert channel's secret is missing or malformed.
 */
export async function startDeliveryWorker(
  rt: DeliveryRuntime,
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
        destination: eventDestination(sink, rt.secrets.dataKeyring),
        retry: config.sinks[i]!.retry,
        concurrency: config.sinks[i]!.concurrency,
        attemptMs: config.sinks[i]!.timeoutMs,
      });
  }
  const alerts = rt.alertLane?.(log);
  if (alerts) lanes.push(alerts);
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
