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

/**
 * The cluster primary's side: binds the Visa listener once and hands every worker
 * {@link LISTENER_COPIES} copies. The primary does not accept on it: its own copy answers only
 * until the first workers have theirs (with a reset: the service is not up yet), and is then
 * closed; a worker started later gets its copies through the primary from a running worker.
 */
export class SharedListener {
  #own: Server | undefined;
  readonly #waiting: Worker[] = [];
  #served = 0;
  readonly #initialWorkers: number;

  constructor(initialWorkers: number) {
    this.#initialWorkers = initialWorkers;
  }

  /** Binds; resolves with the port (useful with port 0). */
  open(host: string, port: number): Promise<number> {
    const server = createServer((socket) => socket.resetAndDestroy());
    this.#own = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  /** Answers `worker`'s requests for copies, and its copies sent back for another worker. */
  add(worker: Worker, others: () => Worker[]): void {
    worker.on('message', (m: { type?: string } | null, handle: unknown) => {
      if (m?.type === LISTENER_REQUEST) this.#serve(worker, others);
      else if (m?.type === LISTENER_MESSAGE && handle) this.#relay(handle as Server);
    });
    worker.once('exit', () => {
      const i = this.#waiting.indexOf(worker);
      if (i >= 0) this.#waiting.splice(i, 1);
    });
  }

  /** Closes the primary's own copy, if it still has one. */
  close(): void {
    this.#own?.close();
    this.#own = undefined;
  }

  #serve(worker: Worker, others: () => Worker[]): void {
    const own = this.#own;
    if (own) {
      const last = ++this.#served >= this.#initialWorkers;
      if (last) this.#own = undefined;
      void this.#give(worker, own).then(() => last && own.close());
      return;
    }
    // Ask a running worker for a copy; it arrives as a LISTENER_MESSAGE.
    this.#waiting.push(worker);
    others()
      .find((w) => w !== worker && w.isConnected())
      ?.send({ type: LISTENER_REQUEST });
  }

  #relay(copy: Server): void {
    // Node listens on a server handle it receives: refuse what this copy accepts meanwhile.
    copy.on('connection', (socket) => socket.resetAndDestroy());
    const gifts = this.#waiting.splice(0).map((w) => this.#give(w, copy));
    void Promise.all(gifts).then(() => copy.close());
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
