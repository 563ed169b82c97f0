import { toAlertRow } from './risk-row-mapping.js';
import type { AlertRow, AlertStore } from './risk-store.js';
import type { SqlDriver } from './sql-driver.js';

/**
 * Cardholder alerts as operators and tests read them: the alert row (what it is, its status)
 * with the attempts and last error of its message in the outbox, which sends it. Written once.
 */
export class SqlAlertStore implements AlertStore {
  constructor(private readonly sql: SqlDriver) {}

  async list(limit: number): Promise<AlertRow[]> {
    const rows = await this.sql.all(
      `SELECT a.id, a.notification_id, a.status, a.level, coalesce(d.attempts, a.attempts) AS attempts,
              coalesce(d.last_error, a.last_error) AS last_error, a.created_at, a.sent_at
         FROM risk_alerts a LEFT JOIN deliveries d ON d.alert_id = a.id AND d.kind = 'alert'
         ORDER BY a.created_at DESC, a.id DESC LIMIT ?`,
      [limit],
    );
    return rows.map(toAlertRow);
  }
}
