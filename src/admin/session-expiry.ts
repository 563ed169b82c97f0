import type { Operator } from '../storage/operator-store.js';
import type { AdminContext } from './admin-context.js';

/**
 * When a session of `op` started at `createdAt` ends if idle from `now`: the idle timeout
 * slides; the absolute limit from sign-in does not, nor, for an operator of the identity
 * provider, the time the provider is asked again (`admin.oidc.sessionMinutes`).
 */
export function sessionExpiry(
  ctx: AdminContext,
  op: Pick<Operator, 'source'>,
  createdAt: number,
  now: number,
): number {
  const limits = [
    now + ctx.settings.sessionIdleMinutes * 60_000,
    createdAt + ctx.settings.sessionMaxHours * 3_600_000,
  ];
  if (op.source === 'oidc') {
    // Without single sign-on configured any more, such an operator has no way in.
    const minutes = ctx.settings.oidc?.sessionMinutes ?? 0;
    limits.push(createdAt + minutes * 60_000);
  }
  return Math.min(...limits);
}
