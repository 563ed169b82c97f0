import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { ClientCertificateState } from '../pipeline/authenticate.js';
import type { ErrorCode } from '../errors.js';
import type { NotificationPipeline, PipelineOutcome } from '../pipeline/notification-pipeline.js';
import { statusForCode, statusForOutcome } from './status-for-outcome.js';

/** Route of Visa's CTP enrollment notification (Visa page: "CTP Enrollment Attempt Notification"). */
export const NOTIFICATION_PATH = '/vtis/v1/tokenRequestors/:tokenRequestorId/cardEnrollment/notification';

/** What the Visa route decided about one request: ids and codes only. */
export interface VisaRequestSummary {
  code: ErrorCode | null;
  outcome: string;
  notificationId?: string | undefined;
  result?: string | undefined;
  eventType?: string | undefined;
  tokenRequestorId?: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** What the Visa route decided, for the one log line written when the response ends. */
    ctp: VisaRequestSummary | null;
  }
}

export interface VisaRouteOptions {
  pipeline: NotificationPipeline;
  basePath: string;
  bodyLimit: number;
  /** Read the TLS client certificate (only when mutual TLS is required). */
  inspectClientCertificate: boolean;
}

/**
 * Registers Visa's notification route and makes every other answer on this listener an empty
 * body with a contract status. Bodies are taken raw: the X-Pay-Token HMAC covers the exact bytes.
 */
export async function visaRoute(app: FastifyInstance, o: VisaRouteOptions): Promise<void> {
  app.decorateRequest('ctp', null);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: o.bodyLimit }, (_req, body, done) => done(null, body));

  app.setNotFoundHandler((req, reply) => {
    req.ctp = { code: 'ROUTE_NOT_FOUND', outcome: 'rejected' };
    void reply.code(404).send();
  });
  app.setErrorHandler((err: { code?: string; statusCode?: number }, req, reply) => {
    // Fastify's own errors (body too large, bad content-length, client aborts): never a body.
    const code: ErrorCode =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'BODY_TOO_LARGE'
        : err.statusCode !== undefined && err.statusCode < 500
          ? 'BODY_INVALID'
          : 'INTERNAL';
    req.ctp = { code, outcome: code === 'INTERNAL' ? 'failed' : 'rejected' };
    if (code === 'INTERNAL') req.log.error({ errCode: err.code }, 'unexpected transport error');
    void reply.code(statusForCode(code)).send();
  });

  const prefix = o.basePath;
  app.post<{ Params: { tokenRequestorId: string } }>(`${prefix}${NOTIFICATION_PATH}`, async (req, reply) => {
    const url = req.raw.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const queryString = q < 0 ? '' : url.slice(q + 1);
    const eventTypes = eventTypesOf(queryString);
    const outcome = await o.pipeline.handle({
      tokenRequestorId: req.params.tokenRequestorId,
      eventType: eventTypes.length === 1 ? eventTypes[0] : undefined,
      resourcePath: path.slice(prefix.length + 1),
      queryString,
      contentType: req.headers['content-type'],
      body: req.body as Buffer | undefined,
      clientCertificate: o.inspectClientCertificate ? clientCertificateOf(req.raw.socket) : undefined,
      xPayToken: headerValue(req.headers['x-pay-token']),
    });
    req.ctp = describe(outcome, req.params.tokenRequestorId, eventTypes[0]);
    if (outcome.kind === 'failed') logFailure(req.log, outcome);
    return reply.code(statusForOutcome(outcome)).send();
  });

  // One structured line per request; ids and codes only, never bodies or URLs. A callback hook,
  // not an async one: no promise per request for a function that never waits.
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info(requestLogFields(req.method, reply.statusCode, req.ctp, reply.elapsedTime), 'visa request');
    done();
  });
}

/** The fields of the one log line per Visa request (both transports write the same line). */
export function requestLogFields(method: string, status: number, c: VisaRequestSummary | null, elapsedMs: number): Record<string, unknown> {
  return {
    method,
    status,
    outcome: c?.outcome ?? (status < 400 ? 'ok' : 'rejected'),
    code: c?.code ?? null,
    tokenRequestorId: c?.tokenRequestorId,
    eventType: c?.eventType,
    notificationId: c?.notificationId,
    result: c?.result,
    ms: Math.round(elapsedMs * 100) / 100,
  };
}

/**
 * Logs why a notification was not stored. The driver's error code (e.g. SQLITE_BUSY, 57P01)
 * tells on-call what broke; driver messages are not logged, since some echo bound values.
 */
export function logFailure(log: { error(obj: object, msg: string): void }, outcome: Extract<PipelineOutcome, { kind: 'failed' }>): void {
  const cause = (outcome.error as { cause?: { code?: unknown } } | undefined)?.cause;
  log.error({ errType: errorName(outcome.error), code: outcome.code, causeCode: cause?.code }, 'notification not stored');
}

/** Every `eventType` in a raw query string (the pipeline takes one; repeated means malformed). */
export function eventTypesOf(queryString: string): string[] {
  return queryString === '' ? [] : new URLSearchParams(queryString).getAll('eventType');
}

/** What the route decided, for the log line and the metrics. */
export function describe(outcome: PipelineOutcome, trid: string, eventType: string | undefined): VisaRequestSummary {
  return {
    outcome: outcome.kind,
    code: outcome.kind === 'accepted' ? null : outcome.code,
    notificationId: 'id' in outcome ? outcome.id : undefined,
    result: 'result' in outcome ? outcome.result : undefined,
    // Only echo values that passed their format checks: anything else is attacker-chosen text.
    tokenRequestorId: /^[0-9]{11}$/.test(trid) ? trid : undefined,
    eventType: eventType !== undefined && /^[A-Z0-9_]{1,64}$/.test(eventType) ? eventType : undefined,
  };
}

/** The TLS client certificate's state, or undefined on a plain-TCP connection. */
export function clientCertificateOf(rawSocket: Socket): ClientCertificateState | undefined {
  const socket = rawSocket as TLSSocket;
  if (!socket.encrypted) return undefined;
  const cert = socket.getPeerCertificate();
  return { presented: cert !== null && Object.keys(cert).length > 0, authorized: socket.authorized };
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? undefined : v;
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}
