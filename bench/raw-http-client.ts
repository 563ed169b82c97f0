import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import {
  connect as connectTls,
  createSecureContext,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';

const HEADER_END = Buffer.from('\r\n\r\n');

/** Client side of mutual TLS, as Visa's client would hold it. */
export interface ClientTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /**
   * Offer the last session ticket this cache got (TLS session resumption, RFC 8446 §2.2 and
   * RFC 5077); absent: every connection makes a full handshake.
   */
  sessions?: SessionCache;
}

const contexts = new WeakMap<ClientTls, SecureContext>();

/**
 * One TLS context per client, as a real client keeps: made per connection, parsing the key and
 * certificates cost the load generator about a millisecond a connection.
 */
function secureContextFor(t: ClientTls): SecureContext {
  let c = contexts.get(t);
  if (c === undefined) {
    c = createSecureContext({ ca: t.ca, cert: t.cert, key: t.key });
    contexts.set(t, c);
  }
  return c;
}

/** The latest session ticket seen, shared by the connections of one client. */
export class SessionCache {
  session: Buffer | undefined;
}

/** The request timed out on the client side (the answer, if any, comes too late to count). */
export class ClientTimeout extends Error {
  constructor() {
    super('client timeout');
  }
}

/**
 * The server closed or reset the connection before any byte of the answer (with TLS, possibly
 * before the handshake ended): a request refused before any work, which the client may retry.
 */
export class ConnectionRefused extends Error {
  constructor(cause: string) {
    super(`connection refused by the server: ${cause}`);
  }
}

/**
 * One keep-alive HTTP/1.1 connection (plain TCP, or TLS with a client certificate) that sends
 * pre-built request bytes and reads back only the status line and Content-Length. The load
 * generator shares the machine's cores with the server: undici costs about 100 µs of CPU per
 * request here, this about a third of that, so the server's figures are disturbed less. It
 * understands exactly what the receivers under test answer (Content-Length bodies, keep-alive);
 * anything else is reported as an error, never guessed at.
 *
 * Like undici, it does not reuse a connection the server may be closing: one idle for longer than
 * the server's `Keep-Alive: timeout` less a second is closed and a new one opened, so a request is
 * never written into the server's idle-timeout close (which would surface as ECONNRESET).
 */
export class RawHttpConnection {
  readonly #host: string;
  readonly #port: number;
  readonly #tls: ClientTls | undefined;
  readonly #secureContext: SecureContext | undefined;
  #socket: Socket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #lastUsed = 0;
  /** Reuse limit for an idle connection, from the server's Keep-Alive header (default 4 s). */
  #idleLimitMs = 4000;
  #pending: { resolve: (status: number) => void; reject: (e: Error) => void } | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Connected (and, with TLS, the handshake done). */
  #ready = false;
  /** TLS: handshakes that resumed a session, and all handshakes. */
  resumed = 0;
  handshakes = 0;

  constructor(host: string, port: number, tls?: ClientTls) {
    this.#host = host;
    this.#port = port;
    this.#tls = tls;
    this.#secureContext = tls && secureContextFor(tls);
  }

  /**
   * Sends one complete request and resolves with the response's status code; with `timeoutMs`,
   * rejects with {@link ClientTimeout} and closes the connection when no answer came in time.
   */
  send(request: Buffer, timeoutMs?: number): Promise<number> {
    if (this.#pending) return Promise.reject(new Error('one request at a time per connection'));
    if (this.#socket && performance.now() - this.#lastUsed > this.#idleLimitMs) this.close();
    const socket = this.#socket ?? this.#open();
    return new Promise<number>((resolve, reject) => {
      this.#pending = { resolve, reject };
      if (timeoutMs !== undefined)
        this.#timer = setTimeout(() => {
          const p = this.#pending;
          this.#pending = undefined;
          this.close();
          p?.reject(new ClientTimeout());
        }, timeoutMs);
      socket.write(request);
    });
  }

  /**
   * Opens the connection now (TCP, and TLS handshake if any), so that the first request's
   * latency is the server's, not the handshake's (and, on a cluster, the primary handing the
   * socket to a worker).
   */
  async connect(): Promise<void> {
    const socket = this.#socket ?? this.#open();
    if (this.#ready) return;
    // rejects on 'error', and removes its listeners either way
    await once(socket, this.#tls ? 'secureConnect' : 'connect');
    this.#lastUsed = performance.now();
  }

  /** Connected, and not closed or reset since. */
  get isOpen(): boolean {
    return this.#socket !== undefined && this.#ready;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #open(): Socket {
    const t = this.#tls;
    const s: Socket = t
      ? connectTls({
          host: this.#host,
          port: this.#port,
          secureContext: this.#secureContext!,
          ...(t.sessions?.session ? { session: t.sessions.session } : {}),
        })
      : connect({ host: this.#host, port: this.#port, noDelay: true });
    this.#socket = s;
    this.#ready = false;
    this.#buffer = Buffer.alloc(0);
    if (!t) s.once('connect', () => (this.#ready = true));
    else {
      s.setNoDelay(true);
      s.once('secureConnect', () => {
        this.#ready = true;
        this.handshakes++;
        if ((s as TLSSocket).isSessionReused()) this.resumed++;
      });
      // TLS 1.3 tickets arrive after the handshake; the latest is offered next time.
      if (t.sessions) s.on('session', (session: Buffer) => (t.sessions!.session = session));
    }
    s.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (e: Error) => {
      // A socket this connection already let go of (closed on purpose) fails nobody.
      if (this.#socket !== s) return;
      this.#socket = undefined;
      clearTimeout(this.#timer);
      const p = this.#pending;
      this.#pending = undefined;
      // Nothing of an answer yet: the server refused the request (reset, or closed).
      p?.reject(this.#buffer.length === 0 ? new ConnectionRefused(e.message) : e);
    };
    s.on('error', fail);
    s.on('close', () => fail(new Error('connection closed')));
    return s;
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.#buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*([0-9]+)/i.exec(head);
    const p = this.#pending;
    if (length === null || /\r\ntransfer-encoding:/i.test(head) || !(status >= 100)) {
      this.#pending = undefined;
      this.close();
      p?.reject(new Error(`unexpected response framing: ${head.split('\r\n')[0]}`));
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.#buffer.length < total) return;
    this.#buffer = this.#buffer.subarray(total);
    clearTimeout(this.#timer);
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    const keepAlive = /\r\nkeep-alive:\s*timeout=([0-9]+)/i.exec(head);
    if (keepAlive) this.#idleLimitMs = Math.max(0, Number(keepAlive[1]) * 1000 - 1000);
    this.#lastUsed = performance.now();
    this.#pending = undefined;
    p?.resolve(status);
  }
}

/**
 * The bytes of a POST with a JSON body, ready to write to a socket; `close` asks the server to
 * close the connection after its answer (a client that opens one connection per request).
 */
export function postRequest(host: string, path: string, body: Buffer, close = false): Buffer {
  const head = `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n${close ? 'connection: close\r\n' : ''}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
