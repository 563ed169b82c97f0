import type { Static } from '@sinclair/typebox';
import type { SinkItem } from '../api/api-schemas.js';
import type { SinkConfig } from '../config/delivery-schema.js';
import { ALL_ISSUERS, type IssuerScope } from '../domain/issuer-scope.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import { iso } from './iso-time.js';

/**
 * A configured sink with its state and queue counts, in the two published shapes: the admin
 * API's (`GET /api/sinks`, the console) and `sinks list --format json`, which keeps its counts
 * at the top level and says `enabled`. Both come from one {@link sinkOverview}.
 */

/** One sink's state and counts, as read from the outbox. */
export type SinkOverview = Awaited<ReturnType<typeof sinkOverview>>[number];

/**
 * Open deliveries per sink, for the metrics gauges and the console. The outbox's stats leave out
 * delivered rows (they only grow); with `delivered24h`, those of the last 24 hours are counted
 * (on the created_at index). Counts are of the deliveries of the scope's issuers.
 */
export async function sinkOverview(
  outbox: OutboxStore,
  sinks: readonly (SinkConfig & { issuer?: string })[],
  scope: IssuerScope,
  delivered24h?: { now: number },
) {
  const [stats, states, delivered] = await Promise.all([
    outbox.stats(scope),
    outbox.sinkStates(),
    delivered24h ? outbox.deliveredSince(delivered24h.now - 86_400_000, scope) : [],
  ]);
  return sinks.map((s) => {
    const counts = {
      pending: 0,
      failed: 0,
      delivered: delivered.find((d) => d.sink === s.name)?.count ?? 0,
      dead: 0,
    };
    let oldestOpen: number | null = null;
    for (const r of stats.filter((x) => x.sink === s.name && x.status !== 'delivered')) {
      counts[r.status] += r.count;
      if (
        (r.status === 'pending' || r.status === 'failed') &&
        (oldestOpen === null || r.oldestCreatedAt < oldestOpen)
      )
        oldestOpen = r.oldestCreatedAt;
    }
    const state = states.find((x) => x.name === s.name);
    return {
      sink: s,
      counts,
      oldestOpen,
      disabledAt: state?.disabledAt ?? null,
      disabledReason: state?.disabledReason ?? null,
    };
  });
}

/**
 * Open messages (pending or awaiting a retry) and the oldest one's creation time, per
 * destination of the outbox: the sinks' names and, for cardholder alerts, `alert:cardholder`.
 * Every destination named gets a figure, 0 when nothing is open.
 */
export async function outboxDepths(outbox: OutboxStore, destinations: readonly string[]) {
  const stats = await outbox.stats(ALL_ISSUERS);
  return destinations.map((name) => {
    let open = 0;
    let oldestOpen: number | null = null;
    for (const r of stats)
      if (r.sink === name && (r.status === 'pending' || r.status === 'failed')) {
        open += r.count;
        if (oldestOpen === null || r.oldestCreatedAt < oldestOpen) oldestOpen = r.oldestCreatedAt;
      }
    return { name, open, oldestOpen };
  });
}

/**
 * Where a sink delivers, for operators: scheme, host, port and path; never credentials or query.
 */
function targetOf(s: SinkConfig): string {
  try {
    const u = new URL(s.url);
    return `${u.protocol}//${u.host}${s.type === 'webhook' ? u.pathname : ` exchange ${s.exchange}`}`;
  } catch {
    return s.type;
  }
}

/** An item of `GET /api/sinks`. */
export function presentSink(o: SinkOverview): Static<typeof SinkItem> {
  return {
    name: o.sink.name,
    issuer: o.sink.issuer ?? null,
    type: o.sink.type,
    target: targetOf(o.sink),
    includePan: o.sink.includePan,
    disabledAt: iso(o.disabledAt),
    disabledReason: o.disabledReason,
    counts: o.counts,
    oldestOpenAt: iso(o.oldestOpen),
  };
}

/** An item of `sinks list --format json`. */
export function presentSinkListItem(o: SinkOverview) {
  return {
    name: o.sink.name,
    issuer: o.sink.issuer ?? null,
    type: o.sink.type,
    includePan: o.sink.includePan,
    enabled: o.disabledAt === null,
    disabledAt: iso(o.disabledAt),
    disabledReason: o.disabledReason,
    pending: o.counts.pending,
    failed: o.counts.failed,
    dead: o.counts.dead,
  };
}
