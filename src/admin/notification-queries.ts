import type { NotificationStatus, NotificationSummary, QuarantinedNotification } from '../storage/notification-store.js';
import { SUMMARY_COLUMNS, toSummary } from '../storage/row-mapping.js';
import type { SqlDriver } from './sql-driver.js';

/** Filters of the console's notification table; every one optional, all combined with AND. */
export interface NotificationFilter {
  /** receivedAt ≥ from (ms). */
  from?: number | undefined;
  /** receivedAt < to (ms). */
  to?: number | undefined;
  status?: NotificationStatus | undefined;
  tokenRequestorId?: string | undefined;
  last4?: string | undefined;
  /** Keyed card fingerprint (computed server-side from a typed card number). */
  fingerprint?: string | undefined;
  /** Exclusive upper bound on (receivedAt, id): newest-first paging. */
  before?: { receivedAt: number; id: string } | undefined;
  limit: number;
}

export interface NotificationDetail extends NotificationSummary {
  jwsKid: string | null;
  jweKid: string | null;
  updatedAt: number;
}

export interface HourCount {
  /** Start of the hour, ms since the epoch. */
  hour: number;
  status: NotificationStatus;
  count: number;
}

/** Read side of the notifications table for the console and admin API. */
export class NotificationQueries {
  constructor(private readonly sql: SqlDriver) {}

  async search(f: NotificationFilter): Promise<NotificationSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      params.push(...values);
    };
    if (f.from !== undefined) add('received_at >= ?', f.from);
    if (f.to !== undefined) add('received_at < ?', f.to);
    if (f.status) add('status = ?', f.status);
    if (f.tokenRequestorId) add('token_requestor_id = ?', f.tokenRequestorId);
    if (f.last4) add('pan_last4 = ?', f.last4);
    if (f.fingerprint) add('pan_fingerprint = ?', f.fingerprint);
    if (f.before) add('(received_at < ? OR (received_at = ? AND id < ?))', f.before.receivedAt, f.before.receivedAt, f.before.id);
    params.push(f.limit);
    const rows = await this.sql.all(
      `SELECT ${SUMMARY_COLUMNS} FROM notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY received_at DESC, id DESC LIMIT ?`,
      params,
    );
    return rows.map(toSummary);
  }

  async detail(id: string): Promise<NotificationDetail | undefined> {
    const [r] = await this.sql.all(`SELECT ${SUMMARY_COLUMNS}, jws_kid, jwe_kid, updated_at FROM notifications WHERE id = ?`, [id]);
    if (!r) return undefined;
    return {
      ...toSummary(r),
      jwsKid: (r.jws_kid as string | null) ?? null,
      jweKid: (r.jwe_kid as string | null) ?? null,
      updatedAt: Number(r.updated_at),
    };
  }

  async quarantined(id: string): Promise<QuarantinedNotification | undefined> {
    const [r] = await this.sql.all(
      `SELECT id, dedup_key, received_at, token_requestor_id, event_type, reason, encrypted_data
       FROM notifications WHERE id = ? AND status = 'quarantined'`,
      [id],
    );
    if (!r) return undefined;
    return {
      id: String(r.id),
      dedupKey: String(r.dedup_key),
      receivedAt: Number(r.received_at),
      tokenRequestorId: String(r.token_requestor_id),
      eventType: String(r.event_type),
      reason: (r.reason as string | null) ?? null,
      encryptedData: String(r.encrypted_data),
    };
  }

  /** Arrivals per hour and status since `since` (ms). */
  async perHour(since: number): Promise<HourCount[]> {
    const rows = await this.sql.all(
      `SELECT received_at / 3600000 AS h, status, COUNT(*) AS n FROM notifications
       WHERE received_at >= ? GROUP BY received_at / 3600000, status ORDER BY h`,
      [since],
    );
    return rows.map((r) => ({ hour: Number(r.h) * 3_600_000, status: r.status as NotificationStatus, count: Number(r.n) }));
  }

  /** Quarantined notifications by reason code (the whole queue, not a time window). */
  async quarantineByReason(): Promise<{ reason: string; count: number }[]> {
    const rows = await this.sql.all(
      `SELECT COALESCE(reason, 'UNKNOWN') AS reason, COUNT(*) AS n FROM notifications WHERE status = 'quarantined'
       GROUP BY COALESCE(reason, 'UNKNOWN') ORDER BY n DESC`,
    );
    return rows.map((r) => ({ reason: String(r.reason), count: Number(r.n) }));
  }
}
