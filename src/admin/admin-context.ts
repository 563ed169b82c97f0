import { Value } from '@sinclair/typebox/value';
import { type Config, ConfigSchema } from '../config/config-schema.js';
import type { Secrets } from '../keys/load-secrets.js';
import type { Logger } from '../logger.js';
import type { IssuerPipelines } from '../pipeline/issuer-pipelines.js';
import type { ApiTokenStore } from '../storage/api-token-store.js';
import type { AuditLog } from '../storage/audit-log.js';
import type { CaseStore } from '../storage/case-store.js';
import type { MfaStore } from '../storage/mfa-store.js';
import type { NotificationQueries } from '../storage/notification-queries.js';
import type { NotificationStore } from '../storage/notification-store.js';
import type { OperatorStore } from '../storage/operator-store.js';
import type { OutboxStore } from '../storage/outbox-store.js';
import { LoginLimiter } from './login-limiter.js';
import { OidcClient } from './oidc-client.js';

/**
 * The admin listener's settings with defaults filled (the listener may be built without
 * `config.admin`).
 */
export type AdminSettings = NonNullable<Config['admin']>;

/** The schema's defaults for `admin`, used when the listener is built without `config.admin`. */
export const DEFAULT_ADMIN: AdminSettings = Value.Default(
  ConfigSchema.properties.admin,
  {},
) as AdminSettings;

/** What the admin routes share. */
export interface AdminContext {
  config: Config;
  settings: AdminSettings;
  secrets: Secrets;
  store: NotificationStore;
  outbox: OutboxStore;
  /** Each issuer's pipeline (reprocessing a quarantined row with its issuer's keys). */
  pipelines: IssuerPipelines;
  logger: Logger;
  operators: OperatorStore;
  tokens: ApiTokenStore;
  mfa: MfaStore;
  audit: AuditLog;
  notifications: NotificationQueries;
  cases: CaseStore;
  limiter: LoginLimiter;
  /** The identity provider's client, when `admin.oidc` is configured. */
  oidc: OidcClient | undefined;
  now: () => number;
}

export interface AdminDeps {
  config: Config;
  secrets: Secrets;
  store: NotificationStore;
  outbox: OutboxStore;
  /** Each issuer's pipeline (reprocessing a quarantined row with its issuer's keys). */
  pipelines: IssuerPipelines;
  logger: Logger;
  now?: () => number;
}

export function adminContext(deps: AdminDeps): AdminContext {
  const now = deps.now ?? Date.now;
  const settings = { ...DEFAULT_ADMIN, ...deps.config.admin };
  return {
    ...deps,
    settings,
    ...deps.store.openAdminStores(now),
    limiter: new LoginLimiter(settings.loginMaxFailures, settings.loginWindowMinutes * 60_000, now),
    oidc:
      settings.oidc && deps.secrets.oidcClientSecret !== undefined
        ? new OidcClient(settings.oidc, deps.secrets.oidcClientSecret, now)
        : undefined,
    now,
  };
}
