import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real service (RabbitMQ, PostgreSQL), so a test can
 * make the service "go away" for the client under test without touching the service itself:
 * drop every connection, refuse new ones for a while, or partition (hold every byte).
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  readonly #held: { to: Socket; data: Buffer }[] = [];
  #server: Server | undefined;
  #refusing = false;
  #partitioned = false;
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
      // Forwarded by hand rather than piped, so that a partition can hold bytes back.
      const forward = (to: Socket) => (data: Buffer) => {
        if (this.#partitioned) this.#held.push({ to, data });
        else to.write(data);
      };
      client.on('data', forward(upstream));
      upstream.on('data', forward(client));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }

  /** Cuts every open connection (both directions), as a broker or database restart would. */
  dropAll(): void {
    this.#held.length = 0;
    for (const s of this.#sockets) s.destroy();
  }

  /** While true, new connections are closed at once (service down). */
  refuse(on: boolean): void {
    this.#refusing = on;
  }

  /**
   * While true, connections stay open but no byte passes either way (a network partition:
   * nothing fails, nothing answers). On false the held bytes are delivered, as TCP would once
   * the partition heals: late answers to questions the client may have given up on.
   */
  partition(on: boolean): void {
    this.#partitioned = on;
    if (!on) for (const { to, data } of this.#held.splice(0)) if (!to.destroyed) to.write(data);
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
  }
}
