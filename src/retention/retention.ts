import type { Config } from '../config/config-schema.js';
import type { Logger } from '../logger.js';
import type { NotificationStore } from '../storage/notification-store.js';

const DAY_MS = 86_400_000;

/** Purges rows older than `retention.days` once; returns the count and the cut-off used. */
export async function purgeExpired(
  store: NotificationStore,
  retention: NonNullable<Config['retention']>,
  now: number = Date.now(),
  onBatch?: (purged: number) => void,
): Promise<{ purged: number; before: number }> {
  const before = now - retention.days * DAY_MS;
  return { purged: await store.purge(before, undefined, onBatch), before };
}

export interface RetentionSchedule {
  stop(): void;
  /** Resolves when the purge running now (if any) has finished. */
  idle(): Promise<void>;
}

/**
 * Runs {@link purgeExpired} inside `serve`: first soon after start (after `firstRunMs`,
 * default 1–3 s, spread so that cluster workers do not all start at once; purging is idempotent
 * and batched, so overlapping runs only cost a little work), then every `intervalMinutes`.
 * A failed run is logged with a code and tried again at the next interval.
 */
export function scheduleRetention(
  store: NotificationStore,
  retention: NonNullable<Config['retention']>,
  logger: Logger,
  o: { firstRunMs?: number; now?: () => number } = {},
): RetentionSchedule {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = () => {
    running = purgeExpired(store, retention, (o.now ?? Date.now)()).then(
      ({ purged, before }) => {
        logger.info(
          { purged, before: new Date(before).toISOString(), days: retention.days },
          'retention purge',
        );
      },
      (error: unknown) =>
        logger.error(
          {
            code: 'RETENTION_PURGE_FAILED',
            errType: error instanceof Error ? error.name : typeof error,
          },
          'retention purge failed; retrying at the next interval',
        ),
    );
  };
  const first = setTimeout(
    () => !stopped && run(),
    o.firstRunMs ?? 1000 + Math.floor(Math.random() * 2000),
  );
  const every = setInterval(() => !stopped && run(), retention.intervalMinutes * 60_000);
  first.unref();
  every.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
    },
    idle: () => running,
  };
}
