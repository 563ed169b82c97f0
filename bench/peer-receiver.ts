/**
 * The PEER: a minimal, straightforward receiver of the same notification, as a team would
 * write it in an afternoon with the usual tools, kept so the bench can say what ctp-notify's
 * own path buys. Fastify with its JSON body parser, jose `compactVerify` then `compactDecrypt`
 * (keys imported once), the payload parsed, then ONE durable SQLite insert per request
 * (WAL, synchronous=FULL, autocommit: one fsync each). No request logging (the strongest
 * reasonable peer), node:cluster with the same worker count as the service.
 *
 * Usage: node dist/bench/peer-receiver.js --db FILE --port N --workers N --issuer-key PEM
 * --visa-spki PEM
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { compactDecrypt, compactVerify, importPKCS8, importSPKI } from 'jose';

const { values: a } = parseArgs({
  options: {
    db: { type: 'string' },
    port: { type: 'string' },
    workers: { type: 'string', default: '1' },
    'issuer-key': { type: 'string' },
    'visa-spki': { type: 'string' },
  },
});
const workers = Number(a.workers);

function open(): Database.Database {
  const db = new Database(a.db as string);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  return db;
}

async function worker(): Promise<void> {
  const db = open();
  const insert = db.prepare(
    'INSERT INTO notifications (id, received_at, jws_kid, jwe_kid, payload, encrypted_data) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const visaKey = await importSPKI(readFileSync(a['visa-spki'] as string, 'utf8'), 'PS256');
  const issuerKey = await importPKCS8(
    readFileSync(a['issuer-key'] as string, 'utf8'),
    'RSA-OAEP-256',
  );
  const app = Fastify({ logger: false, bodyLimit: 16384 });
  app.post<{ Body: { encryptedData?: unknown } }>(
    '/vtis/v1/tokenRequestors/:trid/cardEnrollment/notification',
    async (req, reply) => {
      const encryptedData = req.body?.encryptedData;
      if (typeof encryptedData !== 'string') return reply.code(400).send();
      let jws: Awaited<ReturnType<typeof compactVerify>>;
      try {
        jws = await compactVerify(encryptedData, visaKey, { algorithms: ['PS256'] });
      } catch {
        return reply.code(401).send();
      }
      let jwe: Awaited<ReturnType<typeof compactDecrypt>>;
      try {
        jwe = await compactDecrypt(jws.payload, issuerKey, {
          keyManagementAlgorithms: ['RSA-OAEP-256'],
          contentEncryptionAlgorithms: ['A256GCM', 'A128GCM'],
        });
      } catch {
        return reply.code(400).send();
      }
      const payload: unknown = JSON.parse(new TextDecoder().decode(jwe.plaintext));
      insert.run(
        randomUUID(),
        Date.now(),
        jws.protectedHeader.kid ?? null,
        jwe.protectedHeader.kid ?? null,
        JSON.stringify(payload),
        encryptedData,
      );
      return reply.code(200).send();
    },
  );
  await app.listen({ host: '127.0.0.1', port: Number(a.port) });
  process.send?.('listening');
  process.once(
    'SIGTERM',
    () =>
      void app.close().then(() => {
        db.close();
        process.exit(0);
      }),
  );
}

if (cluster.isPrimary) {
  const db = open();
  db.exec(`CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, jws_kid TEXT, jwe_kid TEXT, payload TEXT NOT NULL, encrypted_data TEXT NOT NULL)`);
  db.close();
  let up = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (m) => {
      if (m === 'listening' && ++up === workers)
        process.stdout.write(`${JSON.stringify({ msg: 'listening', workers })}\n`);
    });
  }
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && process.exit(0));
  });
} else {
  await worker();
}
