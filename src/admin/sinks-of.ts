import type { SettledSink } from '../config/config-schema.js';
import { type IssuerScope, scopeAllows } from '../domain/issuer-scope.js';

/**
 * The sinks an operator of `scope` sees: those every issuer's events go to (the deployment's),
 * and those of the scope's issuers. Another issuer's sink is, to them, no sink at all.
 */
export function sinksOf(sinks: readonly SettledSink[], scope: IssuerScope): SettledSink[] {
  return sinks.filter((s) => s.issuer === undefined || scopeAllows(scope, s.issuer));
}
