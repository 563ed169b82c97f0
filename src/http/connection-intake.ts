import type { Server as NetServer, Socket } from 'node:net';
import type { Admission } from './admission.js';
import { LISTENER_MESSAGE, LISTENER_REQUEST } from './shared-listener.js';

/**
 * How long a new connection counts as a request on its way. A client that opens a connection
 * for a request sends it at once, and it is read within a turn or two; one that opens a pool of
 * idle connections ahead of its requests is not holding any work after that.
 */
export const AWAITING_MS = 100;

/**
 * How long a TLS handshake counts as work under way. Its CPU is spent when the ClientHello and
 * the client's certificate arrive, within milliseconds; one still unfinished after this waits
 * for its client, not for this process (and a client that connects and sends nothing must not
 * hold places for long).
 */
export const HANDSHAKE_MS = 250;

export interface ConnectionIntakeOptions {
  /** The Visa app's HTTP or HTTPS server; it never listens itself. */
  server: NetServer;
  /** Admission control of the Visa route, whose limits this extends to connections. */
  admission: Admission;
  /** The server is a TLS server: handshakes under way count against the limit. */
  tls: boolean;
  /** Called for each connection reset because the limit was reached. */
  onRefused?: () => void;
  /** Called when a copy of the listening socket fails to accept (EMFILE and the like). */
  onError?: (error: Error) => void;
}

/**
 * A cluster worker's accepting side (see shared-listener.ts): it asks the primary for copies of
 * the listening socket, accepts on each, and hands each connection to the Visa app's server.
 * When the requests admitted, the connections whose first request is not read yet and the TLS
 * handshakes under way reach the limit, a new connection is reset at once instead, before any
 * work (before the TLS handshake above all): the client
 * learns at once that it must retry, where a connection left in the accept queue would have
 * timed out after its request was perhaps stored.
 */
export class ConnectionIntake {
  readonly #o: ConnectionIntakeOptions;
  readonly #listeners: NetServer[] = [];
  /** TLS connections accepted in the last {@link HANDSHAKE_MS} whose handshake has not ended. */
  readonly #handshaking = new Map<Socket, number>();
  /** Connections handed to the server and not closed yet (what a shutdown waits for). */
  readonly #open = new Set<Socket>();
  /**
   * Connections accepted (after TLS: handshaken) in the last {@link AWAITING_MS} whose first
   * request has not been read yet, with when: oldest first.
   */
  readonly #awaiting = new Map<Socket, number>();
  #ready: (() => void) | undefined;
  #stopped = false;
  readonly #onMessage: (m: { type?: string } | null, handle: unknown) => void;

  constructor(o: ConnectionIntakeOptions) {
    this.#o = o;
    this.#onMessage = (m, handle) => {
      if (m?.type === LISTENER_REQUEST) {
        // The primary relays a copy to a worker started after the first ones.
        const copy = this.#listeners[0];
        if (copy) process.send?.({ type: LISTENER_MESSAGE }, copy);
      } else if (m?.type === LISTENER_MESSAGE && handle) {
        const listener = handle as NetServer;
        if (this.#stopped) {
          listener.close();
          return;
        }
        listener.on('connection', (socket: Socket) => this.#take(socket));
        listener.on('error', (e: Error) => this.#o.onError?.(e));
        this.#listeners.push(listener);
        this.#ready?.();
      }
    };
    if (o.tls) {
      // A TLSSocket made over an accepted socket keeps it as `_parent` (node:tls).
      const ended = (t: Socket) => {
        const raw = (t as Socket & { _parent?: Socket })._parent;
        if (raw) this.#handshaking.delete(raw);
      };
      o.server.on('secureConnection', (t: Socket) => {
        ended(t);
        this.#await(t);
      });
      o.server.on('tlsClientError', (_e: Error, t: Socket) => ended(t));
    }
    o.server.on('request', (req: { socket: Socket }) => this.#awaiting.delete(req.socket));
  }

  /** Asks the primary for the listening socket; resolves once this worker accepts on it. */
  start(): Promise<void> {
    // Node's http.Server starts its header and request deadline checks on 'listening'
    // (connectionsCheckingInterval); this server is fed connections instead of listening.
    this.#o.server.emit('listening');
    process.on('message', this.#onMessage);
    const ready = new Promise<void>((resolve) => (this.#ready = resolve));
    process.send?.({ type: LISTENER_REQUEST });
    return ready;
  }

  /** Stops accepting (closes this worker's copies of the listening socket). */
  stop(): void {
    this.#stopped = true;
    process.off('message', this.#onMessage);
    for (const l of this.#listeners.splice(0)) l.close();
  }

  /** After {@link stop}: resolves when every connection handed to the server has closed (at most `ms`). */
  async drain(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (this.#open.size > 0 && performance.now() < until)
      await new Promise((r) => setTimeout(r, 20));
  }

  #await(socket: Socket): void {
    this.#awaiting.set(socket, performance.now());
    socket.once('close', () => this.#awaiting.delete(socket));
  }

  /**
   * The connections of `m` younger than `ms`: older ones are let go (a handshake the client
   * left unfinished, an idle connection), so no missed event can hold a place for ever.
   */
  #recent(m: Map<Socket, number>, ms: number, now: number): number {
    for (const [s, at] of m) {
      if (now - at <= ms) break;
      m.delete(s);
    }
    return m.size;
  }

  #take(socket: Socket): void {
    const a = this.#o.admission;
    const now = performance.now();
    const { maxInFlight, maxWaitMs } = a.limits;
    const handshakes = this.#recent(this.#handshaking, HANDSHAKE_MS, now);
    const busy = a.inFlight + handshakes;
    const held = busy + this.#recent(this.#awaiting, AWAITING_MS, now);
    // Refused: admission is full; or requests already wait for their turn (more than an eighth
    // of their deadline); or this process is half busy with requests and TLS handshakes (whose
    // CPU is the work before a request) and the connections on their way would fill it. Each
    // would likely be a 500 after its read (and handshake) and its wait; a reset now costs
    // nothing and tells the client at once. Plain connections that send nothing refuse nobody
    // while the process has room for requests; TLS connections that send nothing hold a place
    // 250 ms at most, less than what a real ClientHello costs this process to answer.
    if (
      a.inFlight >= maxInFlight ||
      a.waitingMs(now) > Math.max(5, maxWaitMs / 8) ||
      (busy >= maxInFlight / 2 && held >= maxInFlight)
    ) {
      // RST, not FIN: the client sees a refused request at once, not an answer to wait for.
      socket.resetAndDestroy();
      this.#o.onRefused?.();
      return;
    }
    this.#open.add(socket);
    socket.once('close', () => {
      this.#open.delete(socket);
      this.#handshaking.delete(socket);
    });
    if (this.#o.tls) this.#handshaking.set(socket, now);
    else this.#await(socket);
    this.#o.server.emit('connection', socket);
  }
}
