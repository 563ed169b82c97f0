import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What came back on a raw connection. */
export interface RawAnswer {
  /** Status of the first response, undefined if the server closed without one. */
  status: number | undefined;
  /** Body of the first response (by Content-Length). */
  body: string;
  /** The connection ended (closed by the server) before we gave up waiting. */
  closed: boolean;
  /** Milliseconds from connect to the answer or the close. */
  ms: number;
}

export type RawChunk = Buffer | string | { pauseMs: number };

/**
 * Sends bytes over a plain TCP connection exactly as given (no HTTP client tidying them up),
 * reading the answer while still writing, as a hostile client would. Writes that fail because
 * the server already answered and closed are not errors. Resolves once one full response
 * arrived, the server closed, or `waitMs` passed.
 */
export function rawExchange(
  url: string,
  chunks: RawChunk[],
  o: { waitMs?: number; halfClose?: boolean } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: hostname, port: Number(port) });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const parsed = parseResponse(received);
      socket.destroy();
      resolve({
        status: parsed?.status,
        body: parsed?.body ?? '',
        closed,
        ms: Date.now() - started,
      });
    };
    const timer = setTimeout(() => finish(false), o.waitMs ?? 10_000);
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (parseResponse(received)?.complete) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.once('connect', async () => {
      for (const c of chunks) {
        if (done || socket.destroyed) return;
        if (typeof c === 'object' && !Buffer.isBuffer(c)) await sleep(c.pauseMs);
        else if (!socket.write(c))
          await new Promise((r) => socket.once('drain', r).once('close', r));
      }
      if (o.halfClose !== false && !socket.destroyed) socket.end();
    });
  });
}

function parseResponse(
  buf: Buffer,
): { status: number; body: string; complete: boolean } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!m) return undefined;
  const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const body = buf.subarray(end + 4);
  const want = len ? Number(len[1]) : 0;
  return {
    status: Number(m[1]),
    body: body.subarray(0, want).toString('utf8'),
    complete: body.length >= want,
  };
}

/** A complete HTTP/1.1 request as bytes. */
export function httpRequest(o: {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}): Buffer {
  const body = o.body === undefined ? Buffer.alloc(0) : Buffer.from(o.body);
  const headers: Record<string, string> = {
    host: '127.0.0.1',
    connection: 'close',
    'content-length': String(body.length),
    ...o.headers,
  };
  const head = `${o.method ?? 'POST'} ${o.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
