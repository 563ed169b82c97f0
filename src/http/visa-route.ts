import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../errors.js';
import type { NotificationPipeline, PipelineOutcome } from '../pipeline/notification-pipeline.js';
import { statusForCode, statusForOutcome } from './status-for-outcome.js';

/** Route of Visa's CTP enrollment notification (Visa page: "CTP Enrollment Attempt Notification"). */
export const NOTIFICATION_PATH = '/vtis/v1/tokenRequestors/:tokenRequestorId/cardEnrollment/notification';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the Visa route decided, for the one log line written when the response ends. */
    ctp: { code: ErrorCode | null; outcome: string; notificationId?: string; result?: string; eventType?: string; tokenRequestorId?: string } | null;
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
    const eventTypes = new URLSearchParams(queryString).getAll('eventType');
    const outcome = await o.pipeline.handle({
      tokenRequestorId: req.params.tokenRequestorId,
      eventType: eventTypes.length === 1 ? eventTypes[0] : undefined,
      resourcePath: path.slice(prefix.length + 1),
      queryString,
      contentType: req.headers['content-type'],
      body: req.body as Buffer | undefined,
      clientCertificate: o.inspectClientCertificate ? clientCertificateOf(req) : undefined,
      xPayToken: headerValue(req.headers['x-pay-token']),
    });
    req.ctp = describe(outcome, req.params.tokenRequestorId, eventTypes[0]);
    if (outcome.kind === 'failed') {
      // The driver's error code (e.g. SQLITE_BUSY, 57P01) tells on-call what broke; driver
      // messages are not logged, since some echo bound values.
      const cause = (outcome.error as { cause?: { code?: unknown } } | undefined)?.cause;
      req.log.error({ errType: errorName(outcome.error), code: outcome.code, causeCode: cause?.code }, 'notification not stored');
    }
    return reply.code(statusForOutcome(outcome)).send();
  });

  // One structured line per request; ids and codes only, never bodies or URLs. A callback hook,
  // not an async one: no promise per request for a function that never waits.
  app.addHook('onResponse', (req, reply, done) => {
    const c = req.ctp;
    req.log.info(
      {
        method: req.method,
        status: reply.statusCode,
        outcome: c?.outcome ?? (reply.statusCode < 400 ? 'ok' : 'rejected'),
        code: c?.code ?? null,
        tokenRequestorId: c?.tokenRequestorId,
        eventType: c?.eventType,
        notificationId: c?.notificationId,
        result: c?.result,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'visa request',
    );
    done();
  });
}

function describe(outcome: PipelineOutcome, trid: string, eventType: string | undefined): NonNullable<FastifyRequest['ctp']> {
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

function clientCertificateOf(req: FastifyRequest) {
  const socket = req.raw.socket as TLSSocket;
  if (!socket.encrypted) return undefined;
  const cert = socket.getPeerCertificate();
  return { presented: cert !== null && Object.keys(cert).length > 0, authorized: socket.authorized };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? undefined : v;
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}
