import { AuditLog } from './audit-log.js';
import { NotificationQueries } from './notification-queries.js';
import { OperatorStore } from './operator-store.js';
import type { SqlDriver } from './sql-driver.js';

/** The admin side's stores, on the notification store's own connection or pool. */
export interface AdminStores {
  operators: OperatorStore;
  audit: AuditLog;
  notifications: NotificationQueries;
}

/** Builds the admin stores on one driver (either dialect). `now` defaults to `Date.now`. */
export function createAdminStores(sql: SqlDriver, now: () => number = Date.now): AdminStores {
  return {
    operators: new OperatorStore(sql),
    audit: new AuditLog(sql, now),
    notifications: new NotificationQueries(sql),
  };
}
