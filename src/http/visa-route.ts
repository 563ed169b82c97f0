import type { FastifyInstance } from 'fastify';
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

  app.post<{ Params: { tokenRequestorId: string } }>(
    `${o.basePath}${NOTIFICATION_PATH}`,
    async (req, reply) => {
      const answer = await o.exchange(
        {
          url: req.raw.url ?? '',
          tokenRequestorId: req.params.tokenRequestorId,
          headers: req.headers,
          socket: req.raw.socket,
          body: req.body as Buffer | undefined,
        },
        req.log,
      );
      req.ctp = answer.summary;
      return reply.code(answer.status).send();
    },
  );
}
