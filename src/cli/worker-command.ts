import { startDeliveryWorker } from '../delivery/start-delivery-worker.js';
import { createLogger } from '../logger.js';
import { alertsConfigured } from '../risk/alert/alert-lane.js';
import { createRuntime } from '../runtime.js';
import { loadConfigFrom, parse, UsageError } from './cli-support.js';

export const workerHelp = `ctp-notify worker [--config FILE]
  Runs only the outbox worker (no Visa listener): drains the outbox into the configured
  sinks and the cardholder alert channel until SIGTERM. On PostgreSQL run as many as you like; on SQLite run one, and set
  "delivery": {"runInServe": false} so serve does not run another.`;

export async function workerCommand(argv: string[]): Promise<number> {
  const f = parse(argv, { config: { type: 'string' } });
  const { config } = loadConfigFrom(f.config);
  if (config.sinks.length === 0 && !alertsConfigured(config.risk))
    throw new UsageError(
      'no sinks and no cardholder alerts configured: nothing to deliver (see docs/delivery.md)',
    );
  const logger = createLogger(config.log.level);
  const rt = await createRuntime(config, logger);
  let worker: Awaited<ReturnType<typeof startDeliveryWorker>>;
  try {
    worker = await startDeliveryWorker(rt, logger);
  } catch (error) {
    await rt.close();
    throw error;
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing deliveries in flight');
    Promise.resolve(worker?.stop())
      .then(() => rt.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return -1; // keep running
}
