import type { Config } from '../config/config-schema.js';
import type { Logger } from '../logger.js';
import { serviceMetrics } from '../metrics/service-metrics.js';
import type { DataProtector } from '../protect/data-protector.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import { createSinks } from './create-sinks.js';
import { type DeliveryOutcome, DeliveryWorker } from './delivery-worker.js';

/**
 * What the worker takes from the process's runtime (`Runtime` in src/runtime.ts has it), named
 * here so that the sinks' layer does not import the entry file that assembles everything.
 */
export interface DeliveryRuntime {
  config: Config;
  outbox: OutboxStore;
  secrets: { dataProtector: DataProtector };
}

/**
 * Builds the configured sinks (loading their secrets) and starts a delivery worker on the
 * runtime's outbox. Resolves to undefined when no sink is configured.
 * @throws ConfigError when a sink's secret is missing or malformed.
 */
export async function startDeliveryWorker(
  rt: DeliveryRuntime,
  logger: Logger,
  options: { workerId?: string; onOutcome?: (o: DeliveryOutcome) => void } = {},
): Promise<DeliveryWorker | undefined> {
  const { config } = rt;
  if (config.sinks.length === 0) return undefined;
  const log = logger.child({ component: 'delivery' });
  const sinks = createSinks(config, log);
  const worker = new DeliveryWorker({
    outbox: rt.outbox,
    sinks: sinks.map((sink, i) => ({
      sink,
      retry: config.sinks[i]!.retry,
      concurrency: config.sinks[i]!.concurrency,
    })),
    delivery: config.delivery,
    dataProtector: rt.secrets.dataProtector,
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
