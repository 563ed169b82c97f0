import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../errors.js';
import { statusForCode } from './status-for-outcome.js';
import {
  NOTIFICATION_PATH,
  type VisaExchangeHandler,
  type VisaRequestSummary,
} from './visa-exchange.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * What was decided about a Visa request, for its log line and metrics (null: not Visa traffic).
     */
    ctp: VisaRequestSummary | null;
  }
}

export interface VisaRouteOptions {
  exchange: VisaExchangeHandler;
  basePath: string;
  bodyLimit: number;
}

/**
 * Registers Visa's notification route on Fastify, an adapter over `visa-exchange.ts`, and makes
 * every other answer on this listener an empty body with a contract status. Bodies are taken
 * raw: the X-Pay-Token HMAC covers the exact bytes.
 */
export async function visaRoute(app: FastifyInstance, o: VisaRouteOptions): Promise<void> {
  app.decorateRequest('ctp', null);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: o.bodyLimit }, (_req, body, done) =>
    done(null, body),
  );

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

  const handler =
    (issuerPathOf: (params: Record<string, string>) => string) =>
    async (
      req: FastifyRequest<{ Params: Record<string, string> }>,
      reply: FastifyReply,
    ): Promise<FastifyReply> => {
      const answer = await o.exchange(
        {
          url: req.raw.url ?? '',
          tokenRequestorId: req.params.tokenRequestorId ?? '',
          issuerPath: issuerPathOf(req.params),
          headers: req.headers,
          socket: req.raw.socket,
          body: req.body as Buffer | undefined,
        },
        req.log,
      );
      req.ctp = answer.summary;
      return reply.code(answer.status).send();
    };
  // The endpoint without an issuer segment, and each issuer's under its one segment: both are
  // matched routes, and the exchange finds the issuer (or answers 404) from the segment.
  app.post(
    `${o.basePath}${NOTIFICATION_PATH}`,
    handler(() => ''),
  );
  app.post(
    `${o.basePath}/:issuerPath${NOTIFICATION_PATH}`,
    handler((p) => `/${p.issuerPath ?? ''}`),
  );
}
