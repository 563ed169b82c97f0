import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real service (RabbitMQ), so a test can make "the
 * broker go away" for the client under test: drop every connection, refuse new ones for a while.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #refusing = false;
  port = 0;
  /** Connections accepted so far. */
  connections = 0;

  constructor(targetPort: number, targetHost = '127.0.0.1') {
    this.#target = { host: targetHost, port: targetPort };
  }

  async start(): Promise<this> {
    this.#server = createServer((client) => {
      if (this.#refusing) return client.destroy();
      this.connections++;
      const upstream = createConnection(this.#target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }

  /** Cuts every open connection (both directions), as a broker restart would. */
  dropAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  /** While true, new connections are closed at once (broker down). */
  refuse(on: boolean): void {
    this.#refusing = on;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
