import type { QuarantinedNotification } from '../storage/notification-record.js';
import type { NotificationPipeline, PipelineOutcome } from './notification-pipeline.js';

/** One issuer's endpoint: where Visa calls it and the pipeline with its keys. */
export interface IssuerEndpoint {
  issuer: string;
  /** `""` or one segment, `/bank-a`, after the deployment's `basePath`. */
  basePath: string;
  pipeline: NotificationPipeline;
}

/**
 * Every issuer's pipeline, found by the base path Visa called (a map: a hundred issuers cost
 * what one does) or by the issuer a stored row names. A notification is only ever opened with
 * the keys of the issuer whose endpoint received it.
 */
export class IssuerPipelines {
  readonly #byBasePath = new Map<string, IssuerEndpoint>();
  readonly #byIssuer = new Map<string, IssuerEndpoint>();

  constructor(endpoints: readonly IssuerEndpoint[]) {
    this.replace(endpoints);
  }

  /**
   * Serves `endpoints` from now on (a reload of the issuers). A request already routed keeps
   * the endpoint it was given: requests in flight finish under the list they started with.
   */
  replace(endpoints: readonly IssuerEndpoint[]): void {
    this.#byBasePath.clear();
    this.#byIssuer.clear();
    for (const e of endpoints) {
      this.#byBasePath.set(e.basePath, e);
      this.#byIssuer.set(e.issuer, e);
    }
  }

  /** The issuers served, in configuration order. */
  get issuers(): string[] {
    return [...this.#byIssuer.keys()];
  }

  /** The endpoint at `basePath` (`""` or `/segment`, as routed); undefined: 404. */
  atBasePath(basePath: string): IssuerEndpoint | undefined {
    return this.#byBasePath.get(basePath);
  }

  /** The issuer's pipeline; undefined when the issuer is no longer configured. */
  of(issuer: string): NotificationPipeline | undefined {
    return this.#byIssuer.get(issuer)?.pipeline;
  }

  /**
   * Reprocesses a quarantined row with its own issuer's keys. A row of an issuer no longer
   * configured is refused as its endpoint would be (ROUTE_NOT_FOUND), and kept.
   */
  async reprocess(row: QuarantinedNotification): Promise<PipelineOutcome> {
    const pipeline = this.of(row.issuer);
    if (pipeline === undefined) return { kind: 'rejected', code: 'ROUTE_NOT_FOUND' };
    return pipeline.reprocess(row);
  }
}
