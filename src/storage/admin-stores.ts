import { ApiTokenStore } from './api-token-store.js';
import { AuditLog } from './audit-log.js';
import { CaseStore, type CaseStoreOptions } from './case-store.js';
import { MfaStore } from './mfa-store.js';
import { NotificationQueries } from './notification-queries.js';
import { OperatorStore } from './operator-store.js';
import type { SqlDriver } from './sql-driver.js';

/** The admin side's stores, on the notification store's own connection or pool. */
export interface AdminStores {
  operators: OperatorStore;
  tokens: ApiTokenStore;
  mfa: MfaStore;
  audit: AuditLog;
  notifications: NotificationQueries;
  cases: CaseStore;
}

/**
 * Builds the admin stores on one driver (either dialect). `now` defaults to `Date.now`; `cases`
 * gives the case store the sinks that answers are delivered to.
 */
export function createAdminStores(
  sql: SqlDriver,
  now: () => number = Date.now,
  cases: CaseStoreOptions = {},
): AdminStores {
  return {
    operators: new OperatorStore(sql),
    tokens: new ApiTokenStore(sql),
    mfa: new MfaStore(sql),
    audit: new AuditLog(sql, now),
    notifications: new NotificationQueries(sql),
    cases: new CaseStore(sql, cases),
  };
}
