import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { ServiceMetrics } from '../metrics/service-metrics.js';
import { isTokenRequestorId, TOKEN_REQUESTOR_ID_LENGTH } from '../visa/token-requestor-id.js';
import {
  NOTIFICATION_PATH,
  type VisaExchangeHandler,
  type VisaRequestSummary,
  visaRequestAnswered,
} from './visa-exchange.js';

export interface VisaFastPathOptions {
  exchange: VisaExchangeHandler;
  basePath: string;
  bodyLimit: number;
  logger: Logger;
  metrics: ServiceMetrics;
  /** The request id for the log line; shared with Fastify's `genReqId` so ids never repeat. */
  nextRequestId: () => string;
}

const DIGITS = /^[0-9]{1,9}$/;
/** The two spellings Visa sends; any other content type goes the general way. */
const JSON_MEDIA = /^application\/json(?:\s*;\s*charset="?utf-8"?)?$/i;
const EMPTY = { 'content-length': '0' } as const;

/**
 * Serves the ordinary shape of Visa's request on Node's own `request` event, before Fastify's
 * router, hooks and per-request child logger (whether that still pays: `npm run bench`). An adapter
 * over `visa-exchange.ts`, like the Fastify route: the same handler, status, log line and metrics.
 *
 * "Ordinary" is decided from the request line and headers alone, before any body byte is read:
 * POST to `{basePath}/vtis/v1/tokenRequestors/{11 digits}/cardEnrollment/notification` with an
 * optional query, a Content-Length within the body limit, no Transfer-Encoding, and a JSON
 * content type. Everything else (other routes, chunked or oversized bodies, odd encodings of
 * the path, other content types) returns false and goes to Fastify, which answers it within
 * the contract; `test/http/visa-fast-path.test.ts` sends the same requests both ways.
 *
 * @returns a `request` listener's core: true when it took the request.
 */
export function visaFastPath(
  o: VisaFastPathOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  // The route Fastify registers, split around its one parameter.
  const [head, tail] = NOTIFICATION_PATH.split(':tokenRequestorId') as [string, string];
  const prefix = `${o.basePath}${head}`;
  const idEnd = prefix.length + TOKEN_REQUESTOR_ID_LENGTH;
  /** The token requestor ID of a request line of the ordinary shape, else undefined. */
  const tokenRequestorOf = (url: string): string | undefined => {
    if (!url.startsWith(prefix)) return undefined;
    const id = url.slice(prefix.length, idEnd);
    const end = idEnd + tail.length;
    if (!isTokenRequestorId(id) || !url.startsWith(tail, idEnd)) return undefined;
    return end === url.length || url.charCodeAt(end) === 63 /* ? */ ? id : undefined;
  };

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    tokenRequestorId: string,
    url: string,
    body: Buffer,
    started: number,
  ): Promise<void> {
    const reqId = o.nextRequestId();
    const { status, summary } = await o.exchange(
      { url, tokenRequestorId, headers: req.headers, socket: req.socket, body },
      () => o.logger.child({ reqId }),
    );
    answer(res, reqId, status, summary, started);
  }

  function answer(
    res: ServerResponse,
    reqId: string,
    status: number,
    summary: VisaRequestSummary,
    started: number,
  ): void {
    if (!res.destroyed) res.writeHead(status, EMPTY).end();
    visaRequestAnswered(
      o.logger,
      o.metrics,
      reqId,
      'POST',
      status,
      summary,
      performance.now() - started,
    );
  }

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const tokenRequestorId = tokenRequestorOf(url);
    if (tokenRequestorId === undefined) return false;
    const h = req.headers;
    const length = h['content-length'];
    if (
      length === undefined ||
      h['transfer-encoding'] !== undefined ||
      !DIGITS.test(length) ||
      Number(length) > o.bodyLimit
    )
      return false;
    const type = h['content-type'];
    if (type === undefined || !JSON_MEDIA.test(type)) return false;

    const started = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    req.once('end', () => {
      done = true;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      serve(req, res, tokenRequestorId, url, body, started).catch((error: unknown) => {
        // The exchange never throws; this is for a bug in the answer itself.
        o.logger.error(
          { errType: error instanceof Error ? error.name : typeof error },
          'answer failed',
        );
        res.destroy();
      });
    });
    // The client went away (or missed the request deadline) mid-body: nothing to answer, one
    // line to log, as the general path does for a body it could not read.
    const gone = (): void => {
      if (done) return;
      done = true;
      res.destroy();
      answer(res, o.nextRequestId(), 400, { code: 'BODY_INVALID', outcome: 'rejected' }, started);
    };
    req.once('error', gone);
    req.once('close', gone);
    return true;
  };
}

/**
 * Puts `fastPath` in front of the listener Fastify registered on its server, keeping everything
 * Fastify configured on that server (timeouts, TLS, keep-alive, closing).
 */
export function installFastPath(
  server: Server,
  fastPath: (req: IncomingMessage, res: ServerResponse) => boolean,
): void {
  const general = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  if (general.length !== 1)
    throw new Error(`expected one request listener on the server, found ${general.length}`);
  const fastify = general[0]!;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!fastPath(req, res)) fastify(req, res);
  });
}
