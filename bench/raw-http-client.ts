import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * One keep-alive HTTP/1.1 connection that sends pre-built request bytes and reads back only the
 * status line and Content-Length. The load generator shares the machine's cores with the server:
 * undici costs about 100 µs of CPU per request here, this about a third of that, so the server's
 * figures are disturbed less. It understands exactly what the receivers under test answer
 * (Content-Length bodies, keep-alive); anything else is reported as an error, never guessed at.
 *
 * Like undici, it does not reuse a connection the server may be closing: one idle for longer than
 * the server's `Keep-Alive: timeout` less a second is closed and a new one opened, so a request is
 * never written into the server's idle-timeout close (which would surface as ECONNRESET).
 */
export class RawHttpConnection {
  readonly #host: string;
  readonly #port: number;
  #socket: Socket | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #lastUsed = 0;
  /** Reuse limit for an idle connection, from the server's Keep-Alive header (default 4 s). */
  #idleLimitMs = 4000;
  #pending: { resolve: (status: number) => void; reject: (e: Error) => void } | undefined;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /** Sends one complete request and resolves with the response's status code. */
  send(request: Buffer): Promise<number> {
    if (this.#pending) return Promise.reject(new Error('one request at a time per connection'));
    if (this.#socket && performance.now() - this.#lastUsed > this.#idleLimitMs) this.close();
    const socket = this.#socket ?? this.#open();
    return new Promise<number>((resolve, reject) => {
      this.#pending = { resolve, reject };
      socket.write(request);
    });
  }

  /**
   * Opens the connection now, so that the first request's latency is the server's, not the TCP
   * handshake's (and, on a cluster, the primary handing the socket to a worker).
   */
  async connect(): Promise<void> {
    const socket = this.#socket ?? this.#open();
    if (!socket.connecting) return;
    await once(socket, 'connect'); // rejects on 'error', and removes its listeners either way
    this.#lastUsed = performance.now();
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #open(): Socket {
    const s = connect({ host: this.#host, port: this.#port, noDelay: true });
    this.#socket = s;
    this.#buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (e: Error) => {
      // A socket this connection already let go of (closed on purpose) fails nobody.
      if (this.#socket !== s) return;
      this.#socket = undefined;
      const p = this.#pending;
      this.#pending = undefined;
      p?.reject(e);
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
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    const keepAlive = /\r\nkeep-alive:\s*timeout=([0-9]+)/i.exec(head);
    if (keepAlive) this.#idleLimitMs = Math.max(0, Number(keepAlive[1]) * 1000 - 1000);
    this.#lastUsed = performance.now();
    this.#pending = undefined;
    p?.resolve(status);
  }
}

/** The bytes of a POST with a JSON body, ready to write to a socket. */
export function postRequest(host: string, path: string, body: Buffer): Buffer {
  const head = `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
