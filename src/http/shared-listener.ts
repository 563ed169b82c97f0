import type { Worker } from 'node:cluster';
import { createServer, type Server } from 'node:net';

/** Worker → primary: send me the listening socket. Primary → worker: send one back. */
export const LISTENER_REQUEST = 'ctp:listener-request';
/** A copy of the listening socket, sent with this message (Node's `send(message, server)`). */
export const LISTENER_MESSAGE = 'ctp:listener';

/**
 * Copies of the listening socket each worker accepts on. libuv accepts one connection per turn
 * of the event loop on a listening handle (libuv 1.45, "unix: don't accept() connections in a
 * loop"); a worker busy with RSA operations and commits turns a few hundred times a second, so
 * under a storm of new connections they waited in the kernel's accept queue, unseen by admission
 * control, until their client gave up. Each copy is a descriptor of its own on the same socket
 * (SCM_RIGHTS), and each accepts once per turn: a worker takes up to this many per turn, and
 * refuses at once those it has no room for (connection-intake.ts). 8 copies were not enough at
 * 4 × row 2's maximum on a 2-core machine (`npm run bench -- --rows 5`): turns of 10-15 ms.
 */
export const LISTENER_COPIES = 32;

/** How long a worker waits for a copy relayed by another before the primary tries again. */
const RELAY_RETRY_MS = 2000;

export interface SharedListenerOptions {
  host: string;
  port: number;
  /** Workers forked at start: the primary's own copy serves them, then is closed. */
  initialWorkers: number;
  /** Called for each connection the primary's own copy accepted and reset. */
  onRefused?: () => void;
  /** Called when a copy fails to accept (EMFILE and the like). */
  onError?: (error: Error) => void;
}

/**
 * The cluster primary's side: binds the Visa listener and hands every worker
 * {@link LISTENER_COPIES} copies. The primary does not serve on it: its own copy resets what it
 * accepts (the service is not up yet) until the first workers hold theirs, and is then closed. A
 * worker started later gets its copies through the primary from a worker that holds them (asked
 * again every 2 s until one answers); when none does (every worker died, and with them the last
 * descriptor), the primary binds again.
 */
export class SharedListener {
  readonly #o: SharedListenerOptions;
  #own: Server | undefined;
  #port: number;
  readonly #waiting = new Set<Worker>();
  /** Workers that hold their copies (they said 'listening'). */
  readonly #holding = new Set<Worker>();
  #served = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  #handedOver!: () => void;
  /**
   * Resolves once the first workers hold their copies and the primary's own is closed: from then
   * on no connection is reset for want of a worker (announce the service only then).
   */
  readonly handedOver = new Promise<void>((resolve) => (this.#handedOver = resolve));

  constructor(o: SharedListenerOptions) {
    this.#o = o;
    this.#port = o.port;
  }

  /** Binds; resolves with the port (useful with port 0). */
  async open(): Promise<number> {
    this.#own = await this.#bind(this.#port);
    const a = this.#own.address();
    this.#port = typeof a === 'object' && a ? a.port : this.#port;
    return this.#port;
  }

  /** Answers `worker`'s requests for copies, and its copies sent back for another worker. */
  add(worker: Worker, others: () => Worker[]): void {
    worker.on('message', (m: { type?: string } | null, handle: unknown) => {
      if (m?.type === 'listening') this.#holding.add(worker);
      else if (m?.type === LISTENER_REQUEST) {
        this.#waiting.add(worker);
        this.#serve(others);
      } else if (m?.type === LISTENER_MESSAGE && handle) this.#relay(handle as Server);
    });
    worker.once('exit', () => {
      this.#waiting.delete(worker);
      this.#holding.delete(worker);
    });
  }

  /** Closes the primary's own copy, if it still has one, and stops serving copies. */
  close(): void {
    this.#closed = true;
    this.#handedOver();
    clearTimeout(this.#retry);
    this.#own?.close();
    this.#own = undefined;
  }

  #serve(others: () => Worker[]): void {
    clearTimeout(this.#retry);
    if (this.#closed || this.#waiting.size === 0) return;
    const own = this.#own;
    if (own) {
      for (const w of [...this.#waiting]) {
        this.#waiting.delete(w);
        const last = ++this.#served >= this.#o.initialWorkers;
        if (last) this.#own = undefined;
        void this.#give(w, own).then(() => {
          if (!last) return;
          own.close();
          this.#handedOver();
        });
      }
      return;
    }
    const holder = others().find(
      (w) => this.#holding.has(w) && !this.#waiting.has(w) && w.isConnected(),
    );
    if (holder) holder.send({ type: LISTENER_REQUEST });
    else {
      // No worker holds a copy: the socket closed with the last one. Bind again.
      this.#bind(this.#port).then(
        (server) => {
          this.#own = server;
          this.#served = 0;
          this.#serve(others);
        },
        (error: Error) => this.#o.onError?.(error),
      );
    }
    // Asked worker gone, or not answering: ask again.
    this.#retry = setTimeout(() => this.#serve(others), RELAY_RETRY_MS);
    this.#retry.unref();
  }

  #relay(copy: Server): void {
    // Node listens on a server handle it receives: refuse what this copy accepts meanwhile.
    this.#guard(copy);
    const gifts = [...this.#waiting].map((w) => this.#give(w, copy));
    this.#waiting.clear();
    clearTimeout(this.#retry);
    void Promise.all(gifts).then(() => copy.close());
  }

  #bind(port: number): Promise<Server> {
    const server = this.#guard(createServer());
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.#o.host, port }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  /** A copy the primary holds resets what it accepts, and reports its errors. */
  #guard(server: Server): Server {
    server.on('connection', (socket) => {
      socket.resetAndDestroy();
      this.#o.onRefused?.();
    });
    server.on('error', (e: Error) => this.#o.onError?.(e));
    return server;
  }

  /** Resolves once every copy has left (Node sends one handle at a time, each acknowledged). */
  #give(worker: Worker, server: Server): Promise<void> {
    const sent = Array.from(
      { length: LISTENER_COPIES },
      () =>
        new Promise<void>((resolve) => {
          if (!worker.isConnected()) resolve();
          else worker.send({ type: LISTENER_MESSAGE }, server, () => resolve());
        }),
    );
    return Promise.all(sent).then(() => undefined);
  }
}
