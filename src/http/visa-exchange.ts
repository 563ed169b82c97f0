import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ErrorCode } from '../errors.js';
import { observeVisaRequest, type ServiceMetrics } from '../metrics/service-metrics.js';
import type { ClientCertificateState } from '../pipeline/authenticate.js';
import type { IssuerEndpoint, IssuerPipelines } from '../pipeline/issuer-pipelines.js';
import type { PipelineOutcome } from '../pipeline/notification-pipeline.js';
import { serverSpan, tracingOn } from '../telemetry/tracing.js';
import { isEventType } from '../visa/event-type.js';
import { isTokenRequestorId } from '../visa/token-requestor-id.js';
import type { Admission } from './admission.js';
import { statusForCode, statusForOutcome } from './status-for-outcome.js';

/**
 * One Visa request, as the transport read it, to its answer: building the pipeline's input,
 * running it, the status, the outcome summary, the one log line and the metrics. The Fastify
 * route (`visa-route.ts`) is an adapter over this module and holds no request logic of its own.
 */

/**
 * Route of Visa's CTP enrollment notification (Visa page: "CTP Enrollment Attempt Notification").
 */
export const NOTIFICATION_PATH =
  '/vtis/v1/tokenRequestors/:tokenRequestorId/cardEnrollment/notification';

/** What was decided about one request: ids and codes only. */
export interface VisaRequestSummary {
  code: ErrorCode | null;
  outcome: string;
  /** The issuer whose endpoint was called; undefined when no issuer's route matched. */
  issuer?: string | undefined;
  notificationId?: string | undefined;
  result?: string | undefined;
  eventType?: string | undefined;
  tokenRequestorId?: string | undefined;
  /** The request's trace, when traces are exported: the log line names it. */
  traceId?: string | undefined;
  spanId?: string | undefined;
}

/** What a transport read of a request routed to {@link NOTIFICATION_PATH}. */
export interface VisaRequestParts {
  /** The request target as received (path and query). */
  url: string;
  /** The path parameter, as routed (not yet checked). */
  tokenRequestorId: string;
  /** The issuer's base path as routed: `""` or `/segment` (after the deployment's). */
  issuerPath: string;
  headers: IncomingHttpHeaders;
  socket: Socket;
  /** The exact body bytes (the X-Pay-Token HMAC covers them). */
  body: Buffer | undefined;
}

/** The answer to one request. */
export interface VisaAnswer {
  status: number;
  summary: VisaRequestSummary;
}

/** Where a failure is logged: the transport's request logger. */
export interface FailureLog {
  error(obj: object, msg: string): void;
}

export interface VisaExchangeOptions {
  /** Each issuer's pipeline, found by the base path the request was routed under. */
  pipelines: IssuerPipelines;
  /** The deployment's `basePath`, before the issuer's. */
  basePath: string;
  /** Read the TLS client certificate (only when mutual TLS is required). */
  inspectClientCertificate: boolean;
  /** Admission control (in flight, wait); absent: every request is worked on. */
  admission?: Admission | undefined;
}

/**
 * Runs one request; `log` gives the request's logger, asked for only when there is a failure to
 * log.
 */
export type VisaExchangeHandler = (parts: VisaRequestParts, log: FailureLog) => Promise<VisaAnswer>;

/**
 * Builds the request handler both transports call. It never throws: an unexpected error is an
 * INTERNAL outcome (500, which Visa retries).
 */
export function visaExchange(o: VisaExchangeOptions): VisaExchangeHandler {
  const handle = untraced(o);
  const route = `${o.basePath}/{issuer}${NOTIFICATION_PATH}`;
  return (parts, log) => {
    if (!tracingOn()) return handle(parts, log);
    return serverSpan(`POST ${route}`, async (span) => {
      const answer = await handle(parts, log);
      const s = answer.summary;
      // Ids and codes only: never the card, names, contacts or encryptedData.
      span?.setAttributes({
        'http.request.method': 'POST',
        'http.route': route,
        'http.response.status_code': answer.status,
        'ctp.issuer': s.issuer ?? '',
        'ctp.outcome': s.outcome,
        'ctp.code': s.code ?? '',
        ...(s.tokenRequestorId ? { 'ctp.token_requestor_id': s.tokenRequestorId } : {}),
        ...(s.notificationId ? { 'ctp.notification_id': s.notificationId } : {}),
      });
      if (answer.status >= 500) span?.setStatus({ code: SpanStatusCode.ERROR });
      const ids = span?.spanContext();
      if (ids) {
        s.traceId = ids.traceId;
        s.spanId = ids.spanId;
      }
      return answer;
    });
  };
}

function untraced(o: VisaExchangeOptions): VisaExchangeHandler {
  const admission = o.admission;
  return async (parts, log) => {
    // An unknown issuer is an unknown route: no work, no admission slot. Under mutual TLS a
    // caller without a certificate of Visa's CA gets the 401 a known endpoint would give, so
    // that it cannot list the issuers served here by their segments.
    const endpoint = o.pipelines.atBasePath(parts.issuerPath);
    if (endpoint === undefined) {
      const cert = o.inspectClientCertificate ? clientCertificateOf(parts.socket) : undefined;
      const code: ErrorCode =
        cert === undefined || cert.authorized
          ? 'ROUTE_NOT_FOUND'
          : cert.presented
            ? 'CLIENT_CERT_UNTRUSTED'
            : 'CLIENT_CERT_MISSING';
      return { status: statusForCode(code), summary: { code, outcome: 'rejected' } };
    }
    // Before anything else, above all before any RSA operation or write: a refused request
    // costs this process next to nothing, and Visa retries the 500.
    const shed = admission && (await admission.admit());
    if (shed)
      return {
        status: statusForCode('OVERLOADED'),
        summary: { code: 'OVERLOADED', outcome: 'shed', issuer: endpoint.issuer, result: shed },
      };
    try {
      return await answer(o, endpoint, parts, log);
    } finally {
      admission?.release();
    }
  };
}

/** An admitted request: the pipeline's input from its parts, the pipeline, the answer. */
async function answer(
  o: VisaExchangeOptions,
  endpoint: IssuerEndpoint,
  parts: VisaRequestParts,
  log: FailureLog,
): Promise<VisaAnswer> {
  // X-Pay-Token's resourcePath is the path after the base paths, as Visa sent it.
  const pathStart = o.basePath.length + endpoint.basePath.length + 1;
  const q = parts.url.indexOf('?');
  const queryString = q < 0 ? '' : parts.url.slice(q + 1);
  const eventTypes = eventTypesOf(queryString);
  let outcome: PipelineOutcome;
  try {
    outcome = await endpoint.pipeline.handle({
      tokenRequestorId: parts.tokenRequestorId,
      eventType: eventTypes.length === 1 ? eventTypes[0] : undefined,
      resourcePath: (q < 0 ? parts.url : parts.url.slice(0, q)).slice(pathStart),
      queryString,
      contentType: parts.headers['content-type'],
      body: parts.body,
      clientCertificate: o.inspectClientCertificate ? clientCertificateOf(parts.socket) : undefined,
      xPayToken: headerValue(parts.headers['x-pay-token']),
    });
  } catch (error) {
    outcome = { kind: 'failed', code: 'INTERNAL', error };
  }
  if (outcome.kind === 'failed') logFailure(log, outcome);
  return {
    status: statusForOutcome(outcome),
    summary: describe(outcome, endpoint.issuer, parts.tokenRequestorId, eventTypes[0]),
  };
}

/** The fields of the one log line per Visa request, whichever transport answered it. */
function requestLogFields(
  method: string,
  status: number,
  c: VisaRequestSummary,
  elapsedMs: number,
): Record<string, unknown> {
  return {
    method,
    status,
    issuer: c.issuer,
    outcome: c.outcome,
    code: c.code,
    tokenRequestorId: c.tokenRequestorId,
    eventType: c.eventType,
    notificationId: c.notificationId,
    result: c.result,
    ms: Math.round(elapsedMs * 100) / 100,
    ...(c.traceId ? { trace_id: c.traceId, span_id: c.spanId } : {}),
  };
}

/**
 * Logs why a notification was not stored. The driver's error code (e.g. SQLITE_BUSY, 57P01)
 * tells on-call what broke; driver messages are not logged, since some echo bound values.
 */
function logFailure(log: FailureLog, outcome: Extract<PipelineOutcome, { kind: 'failed' }>): void {
  const err = outcome.error as { cause?: { code?: unknown }; tokenCode?: unknown } | undefined;
  const errType = outcome.error instanceof Error ? outcome.error.name : typeof outcome.error;
  // A token fault names its PKCS#11 return value (CKR_…); a driver fault its error code.
  const causeCode = err?.tokenCode ?? err?.cause?.code;
  log.error({ errType, code: outcome.code, causeCode }, 'notification not stored');
}

/** Every `eventType` in a raw query string (the pipeline takes one; repeated means malformed). */
function eventTypesOf(queryString: string): string[] {
  return queryString === '' ? [] : new URLSearchParams(queryString).getAll('eventType');
}

function describe(
  outcome: PipelineOutcome,
  issuer: string,
  trid: string,
  eventType: string | undefined,
): VisaRequestSummary {
  return {
    outcome: outcome.kind,
    issuer,
    code: outcome.kind === 'accepted' ? null : outcome.code,
    notificationId: 'id' in outcome ? outcome.id : undefined,
    result: 'result' in outcome ? outcome.result : undefined,
    // Only echo values that passed their format checks: anything else is attacker-chosen text.
    tokenRequestorId: isTokenRequestorId(trid) ? trid : undefined,
    eventType: eventType !== undefined && isEventType(eventType) ? eventType : undefined,
  };
}

/**
 * The TLS client certificate's state, or undefined on a plain-TCP connection: its subject CN and
 * SHA-256 fingerprint for the pin (`listen.tls.clientCertificate`). A resumed session reports
 * the certificate of the handshake that made it.
 */
function clientCertificateOf(rawSocket: Socket): ClientCertificateState | undefined {
  const socket = rawSocket as TLSSocket;
  if (!socket.encrypted) return undefined;
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && Object.keys(cert).length > 0;
  if (!presented) return { presented, authorized: socket.authorized };
  // Node gives a repeated attribute as an array: then there is no one CN to compare.
  const cn: unknown = cert.subject?.CN;
  return {
    presented,
    authorized: socket.authorized,
    commonName: typeof cn === 'string' ? cn : undefined,
    sha256: cert.fingerprint256?.replaceAll(':', '').toLowerCase(),
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? undefined : v;
}

/** Where the one line per request goes. */
export interface AnswerLog {
  info(obj: object, msg: string): void;
}

/**
 * Everything after the answer of one Visa request: the one structured log line (ids and codes
 * only, never bodies or URLs) and the metrics.
 */
export function visaRequestAnswered(
  log: AnswerLog,
  metrics: ServiceMetrics,
  method: string,
  status: number,
  summary: VisaRequestSummary,
  elapsedMs: number,
): void {
  log.info(requestLogFields(method, status, summary, elapsedMs), 'visa request');
  observeVisaRequest(metrics, summary, status, elapsedMs);
}
