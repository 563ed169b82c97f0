import type { IssuerScope } from '../domain/issuer-scope.js';
import type { SqlDriver } from './sql-driver.js';
import { SqlFilter } from './sql-filter.js';

/** One operator action: who, what, when, from where, and how it ended. */
export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  actorRole: string | null;
  /** Stable dotted name, e.g. `notification.reprocess`, `session.login`. */
  action: string;
  /** What was acted on (an id, a sink or operator name); never card data. */
  target: string | null;
  outcome: 'ok' | 'denied' | 'failed';
  address: string | null;
  /**
   * The issuer of the resource acted on, or of the one issuer the request was scoped to; null
   * for what is the deployment's (sign-in, operators, several issuers at once).
   */
  issuer: string | null;
  /** Small JSON object of ids and codes. */
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  /**
   * The issuers whose entries may match (required); entries of no issuer match only a scope
   * of every issuer.
   */
  scope: IssuerScope;
  limit: number;
  /** Entries older than this sequence number (cursor). */
  beforeSeq?: number | undefined;
  actor?: string | undefined;
  action?: string | undefined;
}

/**
 * The append-only audit log (PCI DSS v4 req. 10.2: user, event type, date and time, success or
 * failure, origination, affected resource). The table refuses UPDATE and DELETE by trigger, so
 * this class offers neither.
 */
export class AuditLog {
  constructor(
    private readonly sql: SqlDriver,
    private readonly now: () => number = Date.now,
  ) {}

  async append(
    e: Omit<AuditEntry, 'seq' | 'at' | 'issuer'> & { issuer?: string | null },
  ): Promise<void> {
    await this.sql.run(
      'INSERT INTO audit_log (at, actor, actor_role, action, target, outcome, address, detail, issuer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        this.now(),
        e.actor,
        e.actorRole,
        e.action,
        e.target,
        e.outcome,
        e.address,
        e.detail === null ? null : JSON.stringify(e.detail),
        e.issuer ?? null,
      ],
    );
  }

  /** Newest first. */
  async list(q: AuditQuery): Promise<AuditEntry[]> {
    const filter = new SqlFilter();
    filter.scope('issuer', q.scope);
    if (q.beforeSeq !== undefined) filter.add('seq < ?', q.beforeSeq);
    if (q.actor) filter.add('actor = ?', q.actor);
    // A prefix match without LIKE, whose wildcards (_ and %) occur in action names.
    if (q.action) filter.add('substr(action, 1, ?) = ?', q.action.length, q.action);
    const rows = await this.sql.all(
      `SELECT seq, at, actor, actor_role, action, target, outcome, address, detail, issuer FROM audit_log
       ${filter.where} ORDER BY seq DESC LIMIT ?`,
      filter.params(q.limit),
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: Number(r.at),
      actor: String(r.actor),
      actorRole: (r.actor_role as string | null) ?? null,
      action: String(r.action),
      target: (r.target as string | null) ?? null,
      outcome: r.outcome as AuditEntry['outcome'],
      address: (r.address as string | null) ?? null,
      issuer: (r.issuer as string | null) ?? null,
      detail: r.detail == null ? null : (JSON.parse(String(r.detail)) as Record<string, unknown>),
    }));
  }
}
