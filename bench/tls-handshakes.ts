/**
 * `npm run bench:tls -- [--handshakes N (default 2000)]`: the server's CPU per mutual-TLS
 * handshake on the Visa listener's settings (TLS 1.3, the client certificate asked for and
 * checked), with an RSA-2048 and an ECDSA P-256 server certificate, full and resumed. The server
 * runs here, the client in a process of its own (its CPU is not counted); the client presents an
 * RSA-2048 certificate, as Visa's does. Writes bench/results/tls-latest.json.
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TLS12_CIPHERS } from '../src/config/listen-tls-schema.js';
import { type BenchTls, benchTls, type ServerCertKind } from './bench-tls.js';
import { scriptArgs } from './script-args.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const tlsDir = join(repo, 'bench/.cache/keys/tls');

if (process.argv[2] === '--client') {
  // Child: `count` sequential handshakes to `port`, each on a new connection.
  const [port, count, resume] = process.argv.slice(3).map(Number) as [number, number, number];
  const f = await benchTls(tlsDir);
  const opts = {
    host: '127.0.0.1',
    port,
    ca: readFileSync(f.caCert),
    cert: readFileSync(f.clientCert),
    key: readFileSync(f.clientKey),
  };
  let session: Buffer | undefined;
  let resumed = 0;
  for (let i = 0; i < count; i++) {
    await new Promise<void>((done, fail) => {
      const s: TLSSocket = connect({ ...opts, ...(resume && session ? { session } : {}) });
      s.on('session', (x: Buffer) => (session = x));
      s.once('secureConnect', () => {
        if (s.isSessionReused()) resumed++;
      });
      s.resume();
      // The server answers one byte and ends the connection (its tickets come before).
      s.once('end', () => {
        s.destroy();
        done();
      });
      s.once('error', fail);
    });
  }
  process.send?.({ resumed });
  process.exit(0);
}

const a = scriptArgs('usage: npm run bench:tls -- [--handshakes N (default 2000)]', {
  handshakes: { type: 'string', default: '2000' },
});
const n = Number(a.handshakes);
const f: BenchTls = await benchTls(tlsDir);

async function measure(kind: ServerCertKind, resume: boolean) {
  const server = createServer(
    {
      cert: readFileSync(f.server[kind].cert),
      key: readFileSync(f.server[kind].key),
      ca: readFileSync(f.caCert),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      ciphers: DEFAULT_TLS12_CIPHERS,
      honorCipherOrder: true,
    },
    (socket) => {
      socket.getPeerCertificate();
      // A byte of answer first: TLS 1.3 session tickets go out with it.
      socket.end('.');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const run = (count: number) =>
    new Promise<{ resumed: number }>((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), [
        '--client',
        String(port),
        String(count),
        resume ? '1' : '0',
      ]);
      child.once('message', (m: { resumed: number }) => resolve(m));
      child.once('exit', (code) => code !== 0 && reject(new Error(`client exited ${code}`)));
    });
  await run(200); // warm-up
  const c0 = process.cpuUsage();
  const r = await run(n);
  const c = process.cpuUsage(c0);
  server.close();
  return {
    kind,
    resume,
    handshakes: n,
    resumed: r.resumed,
    serverCpuMicrosecondsPerHandshake: Math.round((c.user + c.system) / n),
  };
}

const rows = [];
for (const kind of ['rsa', 'ecdsa'] as const)
  for (const resume of [false, true]) rows.push(await measure(kind, resume));
console.log('server CPU per mutual-TLS handshake (TLS 1.3, client certificate RSA-2048)');
for (const r of rows)
  console.log(
    `  ${r.kind.padEnd(5)} ${r.resume ? 'resumed' : 'full   '}  ${String(r.serverCpuMicrosecondsPerHandshake).padStart(5)} µs  (${r.resumed}/${r.handshakes} resumed)`,
  );
const out = join(repo, 'bench/results/tls-latest.json');
writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`);
console.log(`  written: ${out}`);
