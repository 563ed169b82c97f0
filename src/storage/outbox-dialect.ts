/**
 * What the outbox does differently per dialect, and nothing else: how a claim leases due rows
 * among concurrent workers (SQLite's single writer against PostgreSQL's `FOR UPDATE SKIP
 * LOCKED`), and how other processes learn that rows were queued (PostgreSQL's LISTEN; SQLite
 * has no such signal). `sql-outbox.ts` is the rest, written once. Storage-internal.
 */

/** One claim's values; `assessedBy` is the risk wait's bound (`outbox-claim.ts`). */
export interface ClaimParams {
  sink: string;
  now: number;
  /** The lease's end. */
  until: number;
  /** The lease's fencing token, written to `lease_owner`. */
  token: string;
  limit: number;
  assessedBy: number;
}

export interface OutboxDialect {
  /**
   * Leases up to `limit` claimable rows of the sink (`claimableCondition`), counting the attempt,
   * and returns them with `id, sink, attempts, created_at` and `EVENT_SOURCE_COLUMNS`, in claim
   * order. Each row goes to one claimant however many claim at once.
   */
  claim(p: ClaimParams): Promise<Record<string, unknown>[]>;
  /** See `OutboxStore.watch`. */
  watch(
    onQueued: () => void,
    onError: (error: unknown) => void,
  ): Promise<{ close(): Promise<void> }>;
}

/**
 * Renders a statement whose parameters are named (as `claimableCondition` names them) with `?`
 * placeholders, and lists the values in their order.
 */
export function positional<N extends string>(
  render: (p: (name: N) => string) => string,
  values: Record<N, unknown>,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const sql = render((name) => {
    params.push(values[name]);
    return '?';
  });
  return { sql, params };
}
