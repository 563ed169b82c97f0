import type { NotificationStore } from '../../src/storage/notification-store.js';
import { postgresSqlDriver } from '../../src/storage/postgres/postgres-sql-driver.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import type { SqlDriver } from '../../src/storage/sql-driver.js';
import { sqliteSqlDriver } from '../../src/storage/sqlite/sqlite-sql-driver.js';
import type { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

/**
 * Plain SQL on a store's own connection, for tests that look at rows the interface does not
 * show (hashes at rest, triggers, migrations). Only tests reach under the interface like this.
 */
export function rawSql(store: NotificationStore): SqlDriver {
  return store.dialect === 'sqlite'
    ? sqliteSqlDriver((store as SqliteStore).database)
    : postgresSqlDriver((store as PostgresStore).pool);
}
