/**
 * Which issuers' rows a read may see: every issuer's (processor staff, the host's CLI) or the
 * listed ones'. Every query of the store that returns or changes rows of an issuer takes one,
 * so a caller cannot forget the filter: it has to spell `ALL_ISSUERS` to see everything.
 */
export type IssuerScope = { readonly all: true } | { readonly issuers: readonly string[] };

/** Every issuer's rows. */
export const ALL_ISSUERS: IssuerScope = Object.freeze({ all: true });

/** Only these issuers' rows (none when the list is empty). */
export function onlyIssuers(ids: readonly string[]): IssuerScope {
  return Object.freeze({ issuers: Object.freeze([...new Set(ids)].sort()) });
}

export function scopeAllows(scope: IssuerScope, issuer: string): boolean {
  return 'all' in scope || scope.issuers.includes(issuer);
}

/** Whether every issuer `inner` allows, `outer` allows too. */
export function scopeCovers(outer: IssuerScope, inner: IssuerScope): boolean {
  if ('all' in outer) return true;
  // An operator of no issuer is the deployment's to manage, not any one issuer's.
  if ('all' in inner || inner.issuers.length === 0) return false;
  return inner.issuers.every((i) => outer.issuers.includes(i));
}

/**
 * `scope` narrowed to one issuer when a request names one (`?issuer=`): undefined when the
 * scope does not allow it, which callers answer as they answer an unknown resource.
 */
export function narrowScope(
  scope: IssuerScope,
  issuer: string | undefined,
): IssuerScope | undefined {
  if (issuer === undefined) return scope;
  return scopeAllows(scope, issuer) ? onlyIssuers([issuer]) : undefined;
}

/** The stored spelling: `*` for every issuer, else the ids joined by commas (ids hold none). */
export function formatScope(scope: IssuerScope): string {
  return 'all' in scope ? '*' : scope.issuers.join(',');
}

export function parseScope(stored: string): IssuerScope {
  return stored === '*' ? ALL_ISSUERS : onlyIssuers(stored.split(',').filter((s) => s !== ''));
}
