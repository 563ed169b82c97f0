import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request had fully arrived. */
  at: number;
  /** Status we answered (undefined while held). */
  status?: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Hold the request open (never answer): a receiver that hangs. */
  hang?: boolean;
  delayMs?: number;
}

/** PEM files of the receiver's TLS server certificate (for `127.0.0.1`) and its key. */
export interface ReceiverTls {
  cert: string;
  key: string;
}

/**
 * A real HTTP receiver on 127.0.0.1 playing the issuer's systems. `respond` decides each
 * answer from the request and how many times that webhook-id was seen on that path before.
 * With `tls`, an HTTPS receiver: what a sink carrying card numbers must be (PCI DSS 4.2.1).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  respond: (req: ReceivedRequest, seenBefore: number) => Reply = () => ({ status: 204 });
  readonly #server: Server;
  readonly #held = new Set<ServerResponse>();
  readonly #scheme: 'http' | 'https';
  url = '';

  constructor(o: { tls?: ReceiverTls } = {}) {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: ReceivedRequest = {
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        const id = req.headers['webhook-id'];
        const seen = this.requests.filter(
          (x) => x.path === r.path && x.headers['webhook-id'] === id,
        ).length;
        this.requests.push(r);
        const reply = this.respond(r, seen);
        if (reply.hang) {
          this.#held.add(res);
          return;
        }
        const send = () => {
          r.status = reply.status;
          res.writeHead(reply.status, reply.headers).end();
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      });
    };
    this.#scheme = o.tls ? 'https' : 'http';
    this.#server = o.tls
      ? createHttpsServer({ cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key) }, handler)
      : createServer(handler);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `${this.#scheme}://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
    return this;
  }

  /** Requests to `path` answered with `status` (default: any 2xx). */
  answered(path: string, status?: number): ReceivedRequest[] {
    return this.requests.filter(
      (r) =>
        r.path === path &&
        (status === undefined ? r.status !== undefined && r.status < 300 : r.status === status),
    );
  }

  async close(): Promise<void> {
    for (const res of this.#held) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
