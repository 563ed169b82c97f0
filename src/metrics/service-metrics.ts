import cluster from 'node:cluster';
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  register,
} from 'prom-client';

type MetricsJson = Awaited<ReturnType<typeof register.getMetricsAsJSON>>;

/**
 * The service's Prometheus metrics, one set per process in prom-client's global registry. Names
 * follow Prometheus' conventions (https://prometheus.io/docs/practices/naming/): `_total` for
 * counters, base units (seconds).
 */
export interface ServiceMetrics {
  /**
   * Visa requests by pipeline outcome (accepted, quarantined, rejected, failed) and HTTP status.
   */
  requests: Counter<'outcome' | 'status' | 'issuer'>;
  requestDuration: Histogram<'outcome' | 'issuer'>;
  /** Notifications newly quarantined (retries of one already quarantined are not counted). */
  quarantined: Counter<'issuer'>;
  /** Delivery attempts by sink and result (delivered, retry, dead, sink-disabled). */
  deliveries: Counter<'sink' | 'result'>;
  /** Risk assessments by level. */
  riskAssessments: Counter<'level'>;
  /** Token (HSM) faults by PKCS#11 return value; each one answered 500 and reconnects. */
  tokenErrors: Counter<'code'>;
  /** Visa requests refused by admission control (answered 500 at once), by reason. */
  shed: Counter<'reason'>;
  /** Visa requests admitted and not yet answered (summed over a cluster's workers). */
  inFlight: Gauge;
  /** New connections reset before any work: the worker had no room (connection-intake.ts). */
  connectionsRefused: Counter;
  /** 1 while this process's last reload of the issuers was refused (summed over processes). */
  reloadFailed: Gauge;
  /** Reloads of the issuers by result. */
  reloads: Counter<'result'>;
  /** Spans that never reached the trace collector. */
  spansDropped: Counter;
}

let metrics: ServiceMetrics | undefined;

/** The process's metrics, created on first use together with the process defaults. */
export function serviceMetrics(): ServiceMetrics {
  if (metrics) return metrics;
  collectDefaultMetrics();
  metrics = {
    requests: new Counter({
      name: 'ctp_notify_requests_total',
      help: 'Visa requests by outcome and HTTP status, per issuer ("" when no issuer\'s route matched)',
      labelNames: ['outcome', 'status', 'issuer'],
    }),
    requestDuration: new Histogram({
      name: 'ctp_notify_request_duration_seconds',
      help: 'Time from request to response on the Visa listener, per issuer',
      labelNames: ['outcome', 'issuer'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    quarantined: new Counter({
      name: 'ctp_notify_quarantined_total',
      help: 'Notifications newly quarantined, per issuer',
      labelNames: ['issuer'],
    }),
    deliveries: new Counter({
      name: 'ctp_notify_deliveries_total',
      help: 'Delivery attempts by sink and result (delivered, retry, dead, sink-disabled)',
      labelNames: ['sink', 'result'],
    }),
    riskAssessments: new Counter({
      name: 'ctp_notify_risk_assessments_total',
      help: 'Risk assessments by level',
      labelNames: ['level'],
    }),
    tokenErrors: new Counter({
      name: 'ctp_notify_hsm_errors_total',
      help: 'Token (HSM) faults by PKCS#11 return value (CKR_...)',
      labelNames: ['code'],
    }),
    shed: new Counter({
      name: 'ctp_notify_requests_shed_total',
      help: 'Visa requests answered 500 at once by admission control, by reason (in_flight, deadline)',
      labelNames: ['reason'],
    }),
    inFlight: new Gauge({
      name: 'ctp_notify_requests_in_flight',
      help: 'Visa requests admitted and not yet answered (admission control counts these)',
    }),
    connectionsRefused: new Counter({
      name: 'ctp_notify_connections_refused_total',
      help: 'New Visa connections reset before any work because the worker that accepted them had no room',
    }),
    reloadFailed: new Gauge({
      name: 'ctp_notify_config_reload_failed',
      help: 'Processes whose last reload of the issuers (SIGHUP) was refused; they serve the issuers they had',
    }),
    reloads: new Counter({
      name: 'ctp_notify_config_reloads_total',
      help: 'Reloads of the issuers (SIGHUP), by result (ok, refused)',
      labelNames: ['result'],
    }),
    spansDropped: new Counter({
      name: 'ctp_notify_trace_spans_dropped_total',
      help: 'Spans not exported: the collector refused them or did not answer, or the export queue was full',
    }),
  };
  return metrics;
}

/** Counts one answered Visa request (either way into the route). */
export function observeVisaRequest(
  m: ServiceMetrics,
  summary: { outcome: string; result?: string | undefined; issuer?: string | undefined },
  status: number,
  elapsedMs: number,
): void {
  const outcome = summary.outcome;
  // Only a configured issuer's id (the matched route's), so the label set stays bounded.
  const issuer = summary.issuer ?? '';
  m.requests.inc({ outcome, status: String(status), issuer });
  m.requestDuration.observe({ outcome, issuer }, elapsedMs / 1000);
  if (outcome === 'quarantined' && summary.result === 'inserted') m.quarantined.inc({ issuer });
  else if (outcome === 'shed') m.shed.inc({ reason: summary.result ?? 'unknown' });
}

const REQUEST = 'ctp:metrics-request';
const REPLY = 'ctp:metrics-reply';

/** In a cluster worker: answer the primary's requests for this process's metrics. */
export function answerMetricsRequests(): void {
  if (!cluster.isWorker) return;
  serviceMetrics();
  process.on('message', (m: { type?: string; id?: number }) => {
    if (m?.type !== REQUEST) return;
    void register
      .getMetricsAsJSON()
      .then((json) => process.send?.({ type: REPLY, id: m.id, metrics: json }));
  });
}

let nextId = 0;

/**
 * This process's metrics, plus, in a cluster primary, every worker's, aggregated by prom-client
 * (counters and histograms summed). A worker that does not answer within `timeoutMs` is left out
 * of that scrape rather than failing it.
 */
export async function processMetricsText(timeoutMs = 2000): Promise<string> {
  serviceMetrics();
  const workers = cluster.isPrimary
    ? Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected())
    : [];
  if (workers.length === 0) return register.metrics();
  const id = ++nextId;
  const replies = await Promise.all(
    workers.map(
      (w) =>
        new Promise<MetricsJson | undefined>((resolve) => {
          const onMessage = (m: { type?: string; id?: number; metrics?: MetricsJson }) => {
            if (m?.type !== REPLY || m.id !== id) return;
            done(m.metrics);
          };
          const timer = setTimeout(() => done(undefined), timeoutMs);
          const done = (v: MetricsJson | undefined) => {
            clearTimeout(timer);
            w!.off('message', onMessage);
            resolve(v);
          };
          w!.on('message', onMessage);
          w!.send({ type: REQUEST, id });
        }),
    ),
  );
  const own = await register.getMetricsAsJSON();
  return AggregatorRegistry.aggregate([
    own,
    ...replies.filter((r): r is MetricsJson => r !== undefined),
  ]).metrics();
}
