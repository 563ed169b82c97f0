import type { IssuerScope } from '../domain/issuer-scope.js';
import type { NotificationStatus } from '../domain/notification-statuses.js';
import type { RiskLevel, RiskReason } from '../domain/risk-codes.js';
import type { NotificationSummary, QuarantinedNotification } from './notification-record.js';
import {
  QUARANTINED_COLUMNS,
  SUMMARY_COLUMNS,
  toQuarantined,
  toRisk,
  toSummary,
} from './row-mapping.js';
import type { SqlDriver } from './sql-driver.js';
import { SqlFilter } from './sql-filter.js';

/** Filters of the console's notification table; every one optional, all combined with AND. */
export interface NotificationFilter {
  /** The issuers whose rows may match (required: the caller's, never forgotten). */
  scope: IssuerScope;
  /** receivedAt ≥ from (ms). */
  from?: number | undefined;
  /** receivedAt < to (ms). */
  to?: number | undefined;
  status?: NotificationStatus | undefined;
  tokenRequestorId?: string | undefined;
  last4?: string | undefined;
  /** Keyed card fingerprint (as listings show it). */
  fingerprint?: string | undefined;
  /**
   * A typed card number's keyed fingerprint under each issuer's key (computed server-side):
   * a row matches its own issuer's.
   */
  fingerprints?: readonly { issuer: string; fingerprint: string }[] | undefined;
  /** Risk level of the assessment; notifications not (yet) assessed never match. */
  riskLevel?: 'low' | 'medium' | 'high' | undefined;
  /** Exclusive upper bound on (receivedAt, id): newest-first paging. */
  before?: { receivedAt: number; id: string } | undefined;
  limit: number;
}

/** The stored risk assessment, when there is one. */
export interface RiskView {
  score: number;
  level: RiskLevel;
  reasons: RiskReason[];
  /** Shadow-mode rules that fired: scored, not counted. */
  shadow: { code: string; detail: string; points: number }[];
  directory: string;
  assessedAt: number;
}

export interface NotificationRow extends NotificationSummary {
  risk: RiskView | null;
}

export interface NotificationDetail extends NotificationRow {
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

// Notification columns prefixed (risk_assessments shares some names), then the assessment's.
const COLUMNS = `${SUMMARY_COLUMNS.split(', ')
  .map((c) => `n.${c}`)
  .join(', ')},
  r.score AS risk_score, r.level AS risk_level, r.reasons AS risk_reasons, r.shadow AS risk_shadow,
  r.directory AS risk_directory, r.assessed_at AS risk_assessed_at`;
const FROM = 'notifications n LEFT JOIN risk_assessments r ON r.notification_id = n.id';

function toRow(r: Record<string, unknown>): NotificationRow {
  const risk = toRisk(r);
  return {
    ...toSummary(r),
    risk: risk && {
      ...risk,
      shadow: JSON.parse(String(r.risk_shadow)) as RiskView['shadow'],
      directory: String(r.risk_directory),
      assessedAt: Number(r.risk_assessed_at),
    },
  };
}

/** Read side of the notifications table (with risk assessments) for the console and admin API. */
export class NotificationQueries {
  constructor(private readonly sql: SqlDriver) {}

  async search(f: NotificationFilter): Promise<NotificationRow[]> {
    const filter = new SqlFilter();
    filter.scope('n.issuer', f.scope);
    if (f.from !== undefined) filter.add('n.received_at >= ?', f.from);
    if (f.to !== undefined) filter.add('n.received_at < ?', f.to);
    if (f.status) filter.add('n.status = ?', f.status);
    if (f.tokenRequestorId) filter.add('n.token_requestor_id = ?', f.tokenRequestorId);
    if (f.last4) filter.add('n.pan_last4 = ?', f.last4);
    if (f.fingerprint) filter.add('n.pan_fingerprint = ?', f.fingerprint);
    if (f.fingerprints && f.fingerprints.length > 0)
      filter.add(
        `(${f.fingerprints.map(() => '(n.issuer = ? AND n.pan_fingerprint = ?)').join(' OR ')})`,
        ...f.fingerprints.flatMap((p) => [p.issuer, p.fingerprint]),
      );
    if (f.riskLevel) filter.add('r.level = ?', f.riskLevel);
    if (f.before)
      filter.add(
        '(n.received_at < ? OR (n.received_at = ? AND n.id < ?))',
        f.before.receivedAt,
        f.before.receivedAt,
        f.before.id,
      );
    const rows = await this.sql.all(
      `SELECT ${COLUMNS} FROM ${FROM} ${filter.where}
       ORDER BY n.received_at DESC, n.id DESC LIMIT ?`,
      filter.params(f.limit),
    );
    return rows.map(toRow);
  }

  async detail(id: string, scope: IssuerScope): Promise<NotificationDetail | undefined> {
    const filter = new SqlFilter();
    filter.add('n.id = ?', id);
    filter.scope('n.issuer', scope);
    const [r] = await this.sql.all(
      `SELECT ${COLUMNS}, n.jws_kid, n.jwe_kid, n.updated_at FROM ${FROM} ${filter.where}`,
      filter.params(),
    );
    if (!r) return undefined;
    return {
      ...toRow(r),
      jwsKid: (r.jws_kid as string | null) ?? null,
      jweKid: (r.jwe_kid as string | null) ?? null,
      updatedAt: Number(r.updated_at),
    };
  }

  async quarantined(id: string, scope: IssuerScope): Promise<QuarantinedNotification | undefined> {
    const filter = new SqlFilter();
    filter.add("id = ? AND status = 'quarantined'", id);
    filter.scope('issuer', scope);
    const [r] = await this.sql.all(
      `SELECT ${QUARANTINED_COLUMNS} FROM notifications ${filter.where}`,
      filter.params(),
    );
    return r === undefined ? undefined : toQuarantined(r);
  }

  /** Arrivals per hour and status since `since` (ms). */
  async perHour(since: number, scope: IssuerScope): Promise<HourCount[]> {
    const filter = new SqlFilter();
    filter.add('received_at >= ?', since);
    filter.scope('issuer', scope);
    const rows = await this.sql.all(
      `SELECT received_at / 3600000 AS h, status, COUNT(*) AS n FROM notifications
       ${filter.where} GROUP BY received_at / 3600000, status ORDER BY h`,
      filter.params(),
    );
    return rows.map((r) => ({
      hour: Number(r.h) * 3_600_000,
      status: r.status as NotificationStatus,
      count: Number(r.n),
    }));
  }

  /** Assessments by level of notifications received since `since` (ms). */
  async riskMix(
    since: number,
    scope: IssuerScope,
  ): Promise<Record<'low' | 'medium' | 'high', number>> {
    const filter = new SqlFilter();
    filter.add('r.received_at >= ?', since);
    if (!('all' in scope)) {
      // An assessment is its notification's issuer's.
      filter.scope('n.issuer', scope);
    }
    const rows = await this.sql.all(
      `SELECT r.level, COUNT(*) AS n FROM risk_assessments r
       ${'all' in scope ? '' : 'JOIN notifications n ON n.id = r.notification_id'}
       ${filter.where} GROUP BY r.level`,
      filter.params(),
    );
    const mix = { low: 0, medium: 0, high: 0 };
    for (const r of rows)
      if (r.level === 'low' || r.level === 'medium' || r.level === 'high')
        mix[r.level] = Number(r.n);
    return mix;
  }

  /** Quarantined notifications by reason code (the whole queue, not a time window). */
  async quarantineByReason(scope: IssuerScope): Promise<{ reason: string; count: number }[]> {
    const filter = new SqlFilter();
    filter.add("status = 'quarantined'");
    filter.scope('issuer', scope);
    const rows = await this.sql.all(
      `SELECT COALESCE(reason, 'UNKNOWN') AS reason, COUNT(*) AS n FROM notifications ${filter.where}
       GROUP BY COALESCE(reason, 'UNKNOWN') ORDER BY n DESC`,
      filter.params(),
    );
    return rows.map((r) => ({ reason: String(r.reason), count: Number(r.n) }));
  }
}
