/**
 * The CEILING: the least a Node receiver can do per notification and still pay the bound's cost.
 * Each POST's body is read and dropped, then ONE `crypto.privateDecrypt` RSA-OAEP-256 with the
 * issuer's key (the bound's operation, on a fixed ciphertext) runs, and an empty 200 goes back.
 * No verify, no AES, no storage, no log line. Served like the service: node:http, node:cluster,
 * the same worker count, the same load. Its per-CPU-second rate against the bound is how much of
 * the bound HTTP serving on this machine leaves to any receiver: what the service's ratio should
 * be read against.
 *
 * Usage: node dist/bench/ceiling-receiver.js --port N --workers N --issuer-key PEM
 */
import cluster from 'node:cluster';
import {
  constants,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    port: { type: 'string' },
    workers: { type: 'string', default: '1' },
    'issuer-key': { type: 'string' },
  },
});
const workers = Number(a.workers);
const ready = () =>
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: Number(a.port) })}\n`);

if (cluster.isPrimary && workers > 1) {
  let up = 0;
  for (let i = 0; i < workers; i++) cluster.fork().on('message', () => ++up === workers && ready());
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && process.exit(0));
  });
} else {
  const key = createPrivateKey(readFileSync(a['issuer-key'] as string));
  const oaep = { key, oaepHash: 'sha256', padding: constants.RSA_PKCS1_OAEP_PADDING };
  // A 32-byte content key wrapped like the ones in the bench's JWEs (A256GCM's CEK).
  const wrapped = publicEncrypt({ ...oaep, key: createPublicKey(key) }, Buffer.alloc(32, 7));
  createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      privateDecrypt(oaep, wrapped);
      res.writeHead(200, { 'content-length': '0' }).end();
    });
  }).listen(Number(a.port), '127.0.0.1', () => (cluster.isWorker ? process.send?.('up') : ready()));
  process.once('SIGTERM', () => process.exit(0));
}
