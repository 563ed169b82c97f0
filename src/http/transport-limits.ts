import type { Socket } from 'node:net';
import type { Config } from '../config/config-schema.js';
import type { Logger } from '../logger.js';

/** The timeouts the listener enforces, derived from `config.listen`. */
export interface TransportLimits {
  /** Whole request, headers and body (Node `server.requestTimeout`). */
  requestTimeoutMs: number;
  /** Request headers (Node `server.headersTimeout`) and the TLS handshake (`handshakeTimeout`). */
  headersTimeoutMs: number;
  /** Idle socket between bytes (Node `server.setTimeout`): frees connections that send nothing. */
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /**
   * How often Node sweeps connections for the two deadlines above (`connectionsCheckingInterval`,
   * default 30 s in Node, which would let a slowloris client hold a socket 30 s past its deadline).
   */
  checkIntervalMs: number;
}

/** Defaults: headers 5000 ms or the request deadline if smaller; sweep at most every second. */
export function transportLimits(listen: Config['listen']): TransportLimits {
  const headersTimeoutMs = listen.headersTimeoutMs ?? Math.min(5000, listen.requestTimeoutMs);
  return {
    requestTimeoutMs: listen.requestTimeoutMs,
    headersTimeoutMs,
    idleTimeoutMs: listen.requestTimeoutMs,
    keepAliveTimeoutMs: listen.keepAliveTimeoutMs,
    checkIntervalMs: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
  };
}

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

/** Refuses with a contract 400 and closes: a bounded goodbye even to a peer that never closes. */
export function refuseConnection(socket: Socket): void {
  socket.end(BAD_REQUEST);
  // end(), not destroy(): closing with unread input makes the kernel send RST, and the client
  // may then lose the 400 before reading it. The timer bounds a peer that never closes.
  setTimeout(() => socket.destroy(), 2000).unref();
}

/**
 * Answers to bytes that never became a request (Node's `clientError`), kept inside Visa's
 * contract: malformed HTTP and oversized headers get 400 with an empty body (Fastify's default
 * sends 431 and a JSON body). A request that missed its deadline gets no answer, only a closed
 * connection: Visa retries timeouts (spec notes), and a 400 would tell it not to.
 */
export function clientErrorHandler(logger: Logger) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    logger.debug(
      { code: 'HTTP_CLIENT_ERROR', errCode: err.code },
      'connection closed on a client error',
    );
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
      socket.destroy();
      return;
    }
    refuseConnection(socket);
  };
}
