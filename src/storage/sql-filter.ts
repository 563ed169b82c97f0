import type { IssuerScope } from '../domain/issuer-scope.js';

/**
 * The WHERE clause of a listing whose filters are all optional: each condition is added with
 * the values of its `?` placeholders, so clauses and parameters cannot drift apart.
 */
export class SqlFilter {
  readonly #clauses: string[] = [];
  readonly #params: unknown[] = [];

  /** ANDs `clause` in; `values` fill its placeholders, in order. */
  add(clause: string, ...values: unknown[]): void {
    this.#clauses.push(clause);
    this.#params.push(...values);
  }

  /**
   * Keeps the rows of the scope's issuers (`column` names the issuer); an empty list of issuers
   * keeps none.
   */
  scope(column: string, scope: IssuerScope): void {
    if ('all' in scope) return;
    if (scope.issuers.length === 0) this.add('1 = 0');
    else this.add(`${column} IN (${scope.issuers.map(() => '?').join(', ')})`, ...scope.issuers);
  }

  /** `WHERE … AND …`, or '' when no filter was set. */
  get where(): string {
    return this.#clauses.length > 0 ? `WHERE ${this.#clauses.join(' AND ')}` : '';
  }

  /** The clauses' values, then those of the statement's later placeholders (ORDER BY, LIMIT). */
  params(...after: unknown[]): unknown[] {
    return [...this.#params, ...after];
  }
}
