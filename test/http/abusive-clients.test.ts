import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { Agent, request } from 'undici';
import { encodeVisaMessage } from '../../src/visa/visa-encoder.js';
import { type ServerProcess, startServerProcess } from '../support/cli-process.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { writeServerConfig } from '../support/process-config.js';
import { NOTIFICATION_PATH } from '../support/server-harness.js';
import { type TestPki, testPki } from '../support/test-pki.js';

// Slowloris, slow bodies and thousands of idle connections against a real `ctp-notify serve`
// (mutual TLS, as in production), while a well-behaved Visa keeps sending. The server's own
// deadlines must free every abusive socket; the deadline asserted below is generous (several
// times the configured timeouts): it checks that they are freed at all, not how fast.

const IDLE_TCP = 2000;
const IDLE_TLS = 100;
const SLOWLORIS = 50;
const SLOW_BODY = 50;
const REQUEST_TIMEOUT_MS = 5000;
const HEADERS_TIMEOUT_MS = 2500;

interface Abuser {
  kind: string;
  socket: Socket;
  openedAt: number;
  closedAt?: number;
  answer: string;
}

describe('abusive clients against a real server process', () => {
  let pki: TestPki;
  let db: TestDatabase;
  let server: ServerProcess;
  let agent: Agent;
  const abusers: Abuser[] = [];
  const port = () => Number(new URL(server.url).port);
  const openFds = () => readdirSync(`/proc/${server.child.pid}/fd`).length;

  before(async () => {
    pki = await testPki();
    db = await sqliteDialect.create();
    const { file } = writeServerConfig(pki, { storageUrl: db.url, tls: 'mtls' }, (c) => {
      c.listen.requestTimeoutMs = REQUEST_TIMEOUT_MS;
      c.listen.headersTimeoutMs = HEADERS_TIMEOUT_MS;
      c.listen.keepAliveTimeoutMs = 1000;
    });
    server = await startServerProcess(['--config', file, '--workers', '1']);
    agent = new Agent({
      connect: {
        ca: readFileSync(pki.files.caCert),
        cert: readFileSync(pki.files.clientCert),
        key: readFileSync(pki.files.clientKey),
      },
    });
  });
  after(async () => {
    for (const a of abusers) a.socket.destroy();
    await agent?.close();
    if (server) assert.equal(await server.stop(), 0, 'clean exit after the abuse');
    await db?.drop();
  });

  const track = (kind: string, socket: Socket): Abuser => {
    const a: Abuser = { kind, socket, openedAt: Date.now(), answer: '' };
    socket.on('data', (d: Buffer) => (a.answer += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => (a.closedAt = Date.now()));
    abusers.push(a);
    return a;
  };
  const tls = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = tlsConnect(
        {
          host: '127.0.0.1',
          port: port(),
          ca: readFileSync(pki.files.caCert),
          cert: readFileSync(pki.files.clientCert),
          key: readFileSync(pki.files.clientKey),
          servername: 'localhost',
        },
        () => resolve(s),
      );
      s.once('error', reject);
    });
  const trickle = (a: Abuser, bytes: () => string) => {
    const timer = setInterval(() => {
      if (a.closedAt !== undefined || a.socket.destroyed) clearInterval(timer);
      else a.socket.write(bytes());
    }, 300);
  };

  it('frees idle, slowloris and slow-body connections by its own deadlines while a well-behaved client is served', async () => {
    const fdsBefore = openFds();
    // The server's open descriptors, sampled: proof that the abuse really reached it.
    let fdsPeak = fdsBefore;
    const sampler = setInterval(() => (fdsPeak = Math.max(fdsPeak, openFds())), 50);
    for (let i = 0; i < IDLE_TLS; i++) track('idle TLS', await tls());
    const path = `${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT`;
    for (let i = 0; i < SLOWLORIS; i++) {
      const a = track('slowloris', await tls());
      a.socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
      let n = 0;
      trickle(a, () => `X-${n++}: ${'a'.repeat(5)}\r\n`);
    }
    for (let i = 0; i < SLOW_BODY; i++) {
      const a = track('slow body', await tls());
      a.socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"encryptedData":"`,
      );
      trickle(a, () => 'A');
    }
    // Thousands of TCP connections that never start the TLS handshake.
    for (let i = 0; i < IDLE_TCP; i += 250) {
      await Promise.all(
        Array.from(
          { length: Math.min(250, IDLE_TCP - i) },
          () =>
            new Promise<void>((resolve) => {
              const s = tcpConnect({ host: '127.0.0.1', port: port() }, () => resolve());
              s.once('error', () => resolve());
              track('idle TCP', s);
            }),
        ),
      );
    }
    const opened = Date.now();

    // Meanwhile, Visa: every genuine notification answered 200.
    const keys = {
      signingKey: pki.visaSigningKey,
      signingKid: pki.visaKid,
      encryptionKey: pki.issuerPublicKey,
      encryptionKid: pki.issuerKid,
    };
    const statuses: number[] = [];
    while (Date.now() - opened < REQUEST_TIMEOUT_MS + 1500) {
      const body = JSON.stringify({
        encryptedData: await encodeVisaMessage(enrollmentPayload(), keys),
      });
      const res = await request(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        dispatcher: agent,
      });
      await res.body.dump();
      statuses.push(res.statusCode);
      await sleep(100);
    }
    assert.ok(statuses.length >= 10, 'the well-behaved client got through');
    assert.deepEqual(
      [...new Set(statuses)],
      [200],
      'every genuine notification accepted during the abuse',
    );

    // Every abusive socket closed by the server (generous bound: several times the deadlines).
    const deadline = opened + 5 * REQUEST_TIMEOUT_MS;
    while (abusers.some((a) => a.closedAt === undefined) && Date.now() < deadline) await sleep(200);
    const open: Record<string, number> = {};
    for (const a of abusers) if (a.closedAt === undefined) open[a.kind] = (open[a.kind] ?? 0) + 1;
    assert.deepEqual(open, {}, 'connections the server never freed, by kind');
    for (const a of abusers)
      assert.ok(
        a.answer === '' || a.answer.startsWith('HTTP/1.1 400 '),
        `${a.kind}: no answer, or a contract 400 (${a.answer.slice(0, 40)})`,
      );
    assert.ok(
      !abusers.some((a) => a.answer.includes(' 200 ')),
      'an incomplete request is never acknowledged',
    );

    await sleep(500);
    clearInterval(sampler);
    const fdsAfter = openFds();
    assert.ok(
      fdsPeak >= fdsBefore + IDLE_TCP / 2,
      `the server did hold the connections (${fdsBefore} → peak ${fdsPeak} fds)`,
    );
    assert.ok(
      fdsAfter <= fdsBefore + 20,
      `the server released them (${fdsBefore} → peak ${fdsPeak} → ${fdsAfter} fds)`,
    );
    const byKind = new Map<string, number>();
    for (const a of abusers)
      byKind.set(a.kind, Math.max(byKind.get(a.kind) ?? 0, a.closedAt! - a.openedAt));
    process.stdout.write(
      `# abusive clients: ${abusers.length} connections (${[...byKind].map(([k, ms]) => `${k} freed within ${ms} ms`).join(', ')}); ` +
        `server fds ${fdsBefore} → peak ${fdsPeak} → ${fdsAfter}; ${statuses.length} genuine notifications meanwhile, all 200\n`,
    );
  });
});
