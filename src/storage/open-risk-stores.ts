import type { CardholderStore } from './cardholder-store.js';
import type { NotificationStore } from './notification-store.js';
import type { AlertStore, RiskStore } from './risk-store.js';
import { SqliteAlertStore } from './sqlite-alert-store.js';
import { SqliteCardholderStore } from './sqlite-cardholder-store.js';
import { SqliteRiskStore } from './sqlite-risk-store.js';
import type { SqliteStore } from './sqlite-store.js';

export interface RiskStores {
  cardholders: CardholderStore;
  risk: RiskStore;
  alerts: AlertStore;
}

/** The cardholder, risk and alert stores, on the notification store's own connection or pool. */
export async function openRiskStores(store: NotificationStore): Promise<RiskStores> {
  if (store.dialect === 'sqlite') {
    const sqlite = store as SqliteStore;
    const db = sqlite.database;
    return {
      cardholders: new SqliteCardholderStore(db),
      // Assessments are derived data the risk sweep redoes if lost: no fsync of their own.
      risk: new SqliteRiskStore(db, (run) => sqlite.write(run, { durable: false })),
      alerts: new SqliteAlertStore(db),
    };
  }
  const { PostgresStore } = await import('./postgres-store.js');
  const { PostgresCardholderStore } = await import('./postgres-cardholder-store.js');
  const { PostgresRiskStore } = await import('./postgres-risk-store.js');
  const { PostgresAlertStore } = await import('./postgres-alert-store.js');
  const pool = (store as InstanceType<typeof PostgresStore>).pool;
  return { cardholders: new PostgresCardholderStore(pool), risk: new PostgresRiskStore(pool), alerts: new PostgresAlertStore(pool) };
}
