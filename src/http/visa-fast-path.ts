import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { NotificationPipeline, PipelineOutcome } from '../pipeline/notification-pipeline.js';
import { statusForOutcome } from './status-for-outcome.js';
import { NOTIFICATION_PATH, clientCertificateOf, describe, eventTypesOf, headerValue, logFailure, requestLogFields, type VisaRequestSummary } from './visa-route.js';

export interface VisaFastPathOptions {
  pipeline: NotificationPipeline;
  basePath: string;
  bodyLimit: number;
  inspectClientCertificate: boolean;
  logger: Logger;
  /** The request id for the log line; shared with Fastify's `genReqId` so ids never repeat. */
  nextRequestId: () => string;
  /** Called once per answered request (metrics). */
  onAnswered: (summary: VisaRequestSummary, status: number, elapsedMs: number) => void;
}

const DIGITS = /^[0-9]{1,9}$/;
const TOKEN_REQUESTOR_ID = /^[0-9]{11}$/;
/** The two spellings Visa sends; any other content type goes the general way. */
const JSON_MEDIA = /^application\/json(?:\s*;\s*charset="?utf-8"?)?$/i;
const EMPTY = { 'content-length': '0' } as const;

/**
 * Serves the ordinary shape of Visa's request on Node's own `request` event, before Fastify's
 * router, hooks and per-request child logger: `npm run bench` measured Fastify's share at about
 * 15 µs of CPU per request, roughly a tenth of everything but the RSA operation.
 *
 * "Ordinary" is decided from the request line and headers alone, before any body byte is read:
 * POST to `{basePath}/vtis/v1/tokenRequestors/{11 digits}/cardEnrollment/notification` with an
 * optional query, a Content-Length within the body limit, no Transfer-Encoding, and a JSON
 * content type. Everything else (other routes, chunked or oversized bodies, odd encodings of
 * the path, other content types) returns false and goes to Fastify, which answers it exactly
 * as before. Both ways run the same pipeline, map outcomes to statuses in the same place and
 * write the same log line; `test/visa-fast-path.test.ts` sends the same requests both ways.
 *
 * @returns a `request` listener's core: true when it took the request.
 */
export function visaFastPath(o: VisaFastPathOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  // The route Fastify registers, split around its one parameter.
  const [head, tail] = NOTIFICATION_PATH.split(':tokenRequestorId') as [string, string];
  const prefix = `${o.basePath}${head}`;
  const pathStart = o.basePath.length + 1;
  /** The token requestor ID of a request line of the ordinary shape, else undefined. */
  const tokenRequestorOf = (url: string): string | undefined => {
    if (!url.startsWith(prefix)) return undefined;
    const id = url.slice(prefix.length, prefix.length + 11);
    const end = prefix.length + 11 + tail.length;
    if (!TOKEN_REQUESTOR_ID.test(id) || !url.startsWith(tail, prefix.length + 11)) return undefined;
    return end === url.length || url.charCodeAt(end) === 63 /* ? */ ? id : undefined;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, tokenRequestorId: string, url: string, body: Buffer, started: number): Promise<void> {
    const q = url.indexOf('?');
    const queryString = q < 0 ? '' : url.slice(q + 1);
    const eventTypes = eventTypesOf(queryString);
    let outcome: PipelineOutcome;
    try {
      outcome = await o.pipeline.handle({
        tokenRequestorId,
        eventType: eventTypes.length === 1 ? eventTypes[0] : undefined,
        resourcePath: (q < 0 ? url : url.slice(0, q)).slice(pathStart),
        queryString,
        contentType: req.headers['content-type'],
        body,
        clientCertificate: o.inspectClientCertificate ? clientCertificateOf(req.socket) : undefined,
        xPayToken: headerValue(req.headers['x-pay-token']),
      });
    } catch (error) {
      outcome = { kind: 'failed', code: 'INTERNAL', error };
    }
    const reqId = o.nextRequestId();
    if (outcome.kind === 'failed') logFailure(o.logger.child({ reqId }), outcome);
    const status = statusForOutcome(outcome);
    answer(res, reqId, status, describe(outcome, tokenRequestorId, eventTypes[0]), started);
  }

  function answer(res: ServerResponse, reqId: string, status: number, summary: VisaRequestSummary, started: number): void {
    if (!res.destroyed) res.writeHead(status, EMPTY).end();
    const ms = performance.now() - started;
    o.logger.info({ reqId, ...requestLogFields('POST', status, summary, ms) }, 'visa request');
    o.onAnswered(summary, status, ms);
  }

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const tokenRequestorId = tokenRequestorOf(url);
    if (tokenRequestorId === undefined) return false;
    const h = req.headers;
    const length = h['content-length'];
    if (length === undefined || h['transfer-encoding'] !== undefined || !DIGITS.test(length) || Number(length) > o.bodyLimit) return false;
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
      void serve(req, res, tokenRequestorId, url, body, started);
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
export function installFastPath(server: Server, fastPath: (req: IncomingMessage, res: ServerResponse) => boolean): void {
  const general = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (general.length !== 1) throw new Error(`expected one request listener on the server, found ${general.length}`);
  const fastify = general[0]!;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!fastPath(req, res)) fastify(req, res);
  });
}
