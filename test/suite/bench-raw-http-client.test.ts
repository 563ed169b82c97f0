import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postRequest, RawHttpConnection } from '../../bench/raw-http-client.js';
import { freePort } from '../../bench/server-process.js';

// The bench's load generator: its open loop starts the clock only after connect(), so connect()
// must mean "open", and a connection opened that way must carry requests like a lazy one.
describe('bench load generator connection', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-length': '0' }).end(),
      );
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('connect() opens the socket before any request, and requests then reuse it', async () => {
    const before = connections;
    const c = new RawHttpConnection('127.0.0.1', port);
    await c.connect();
    // The server has seen the connection: the handshake is done before the clock would start.
    await new Promise((r) => setImmediate(r));
    assert.equal(connections, before + 1);
    const body = Buffer.from('{"encryptedData":"x"}');
    assert.equal(await c.send(postRequest(`127.0.0.1:${port}`, '/n', body)), 200);
    assert.equal(await c.send(postRequest(`127.0.0.1:${port}`, '/missing', body)), 404);
    assert.equal(connections, before + 1, 'one keep-alive connection for all of it');
    await c.connect(); // already open: nothing new
    assert.equal(connections, before + 1);
    c.close();
  });

  it('connect() rejects when nothing listens', async () => {
    const c = new RawHttpConnection('127.0.0.1', await freePort());
    await assert.rejects(c.connect(), /ECONNREFUSED/);
    c.close();
  });
});
