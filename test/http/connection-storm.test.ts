import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import Database from 'better-sqlite3';
import { encodeVisaMessage } from '../../src/visa/visa-encoder.js';
import { type ServerProcess, startServerProcess } from '../support/cli-process.js';
import { sqliteDialect, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { enrollmentPayload } from '../support/personal-data.js';
import { writeServerConfig } from '../support/process-config.js';
import { NOTIFICATION_PATH } from '../support/server-harness.js';
import { type TestPki, testPki } from '../support/test-pki.js';

// A storm of new connections against a real `ctp-notify serve --workers 2`, each carrying one
// notification, as Visa's retries after an outage do: the primary hands the workers copies of
// the listening socket (src/http/shared-listener.ts) and each worker refuses, with a reset before
// any work, the connections it has no room for (src/http/connection-intake.ts). Every request
// must end as a 200 or a refusal, none left waiting; a refused one is never stored, and sent
// again it is accepted, each notification stored once.

/** Requests per worker admitted at once: small, so that the storm must be refused in part. */
const MAX_IN_FLIGHT = 2;
/** New connections, one every millisecond or so: a storm that lasts, not one burst. */
const BURST = 300;
/** The client's own deadline: far beyond what any answer or refusal takes here. */
const CLIENT_DEADLINE_MS = 10_000;

type Fate = { kind: 'status'; status: number } | { kind: 'refused'; error: string };

describe('a storm of new connections', () => {
  for (const tls of [false, true]) {
    describe(tls ? 'over mutual TLS' : 'over plain HTTP', () => {
      let pki: TestPki;
      let db: TestDatabase;
      let server: ServerProcess;

      before(async () => {
        pki = await testPki();
        db = await sqliteDialect.create();
        const { file } = writeServerConfig(
          pki,
          { storageUrl: db.url, ...(tls ? { tls: 'mtls' as const } : {}) },
          (c) => {
            c.listen.admission.maxInFlight = MAX_IN_FLIGHT;
          },
        );
        server = await startServerProcess(['--config', file, '--workers', '2']);
      });
      after(async () => {
        if (server) assert.equal(await server.stop(), 0, 'clean exit after the storm');
        await db?.drop();
      });

      const keys = () => ({
        signingKey: pki.visaSigningKey,
        signingKid: pki.visaKid,
        encryptionKey: pki.issuerPublicKey,
        encryptionKid: pki.issuerKid,
      });

      /** One request on a connection of its own ("Connection: close"), as raw bytes. */
      const send = (body: string): Promise<Fate> => {
        const url = new URL(server.url);
        const request = Buffer.from(
          `POST ${NOTIFICATION_PATH}?eventType=CTP_ENROLLMENT_ATTEMPT HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
        return new Promise((resolve) => {
          const port = Number(url.port);
          const socket = tls
            ? tlsConnect({
                host: '127.0.0.1',
                port,
                ca: readFileSync(pki.files.caCert),
                cert: readFileSync(pki.files.clientCert),
                key: readFileSync(pki.files.clientKey),
                servername: 'localhost',
              })
            : tcpConnect({ host: '127.0.0.1', port });
          let answer = '';
          const timer = setTimeout(() => {
            socket.destroy();
            resolve({ kind: 'refused', error: 'client deadline' });
          }, CLIENT_DEADLINE_MS);
          socket.on(tls ? 'secureConnect' : 'connect', () => socket.write(request));
          socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
          const done = (error?: Error) => {
            clearTimeout(timer);
            const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
            resolve(
              status
                ? { kind: 'status', status: Number(status[1]) }
                : { kind: 'refused', error: error?.message ?? 'closed without an answer' },
            );
          };
          socket.on('error', done);
          socket.on('close', () => done());
        });
      };

      it('answers or refuses every request at once, stores no refused one, and takes it when sent again', async () => {
        const bodies = await Promise.all(
          Array.from({ length: BURST }, async () =>
            JSON.stringify({ encryptedData: await encodeVisaMessage(enrollmentPayload(), keys()) }),
          ),
        );
        // A burst that finds the workers idle is accepted whole (the excess answered 500 at once);
        // a storm that lasts meets workers with requests in flight, which refuse new connections.
        const fates = await Promise.all(
          bodies.map(async (body, i) => {
            await new Promise((r) => setTimeout(r, i));
            return send(body);
          }),
        );
        const ok = fates.filter((f) => f.kind === 'status' && f.status === 200).length;
        const refused = fates.filter((f) => f.kind === 'refused');
        const other = fates.filter(
          (f) => f.kind === 'status' && f.status !== 200 && f.status !== 500,
        );
        assert.equal(other.length, 0, `only 200, 500 or a refusal: ${JSON.stringify(other)}`);
        assert.ok(ok > 0, 'some accepted');
        assert.ok(
          refused.length > 0,
          `some refused (limit ${MAX_IN_FLIGHT} per worker): ${ok} accepted, ${fates.filter((f) => f.kind === 'status' && f.status === 500).length} answered 500`,
        );
        assert.ok(
          refused.every((f) => f.kind === 'refused' && f.error !== 'client deadline'),
          'no request left waiting until the client gave up',
        );

        const stored = () => {
          const sqlite = new Database(new URL(db.url).pathname, { readonly: true });
          try {
            return (
              sqlite.prepare('SELECT COUNT(*) AS n FROM notifications').get() as { n: number }
            ).n;
          } finally {
            sqlite.close();
          }
        };
        const accepted = fates.filter((f) => f.kind === 'status' && f.status === 200).length;
        assert.equal(stored(), accepted, 'exactly the accepted ones stored, no refused one');

        // Visa's retries, one at a time: every one accepted, each notification stored once.
        const again = bodies.filter((_, i) => {
          const f = fates[i]!;
          return !(f.kind === 'status' && f.status === 200);
        });
        for (const body of again) {
          const f = await send(body);
          assert.deepEqual(f, { kind: 'status', status: 200 }, 'a retry on an idle service');
        }
        assert.equal(stored(), BURST, 'every notification stored once');
      });

      it('keeps serving on every worker after one is killed and replaced', async () => {
        const workers = () =>
          execFileSync('pgrep', ['-P', String(server.child.pid)], { encoding: 'utf8' })
            .split('\n')
            .filter(Boolean)
            .map(Number);
        const [victim] = workers();
        assert.ok(victim, 'a worker process');
        process.kill(victim, 'SIGKILL');
        const replaced = await eventually(async () => {
          const w = workers();
          return w.length === 2 && !w.includes(victim) ? w : undefined;
        }, 'the primary to start another worker');
        // The replacement gets its copies of the listening socket through the running worker,
        // and both then take connections.
        const servedBy = () =>
          new Set(
            server
              .output()
              .split('\n')
              .filter((l) => l.startsWith('{') && l.includes('"visa request"'))
              .map((l) => (JSON.parse(l) as { pid: number }).pid),
          );
        // While the replacement receives its copies, the primary resets what its own copy
        // accepts: a refusal then is retried, as Visa would.
        await eventually(async () => {
          const body = JSON.stringify({
            encryptedData: await encodeVisaMessage(enrollmentPayload(), keys()),
          });
          const f = await eventually(async () => {
            const r = await send(body);
            return r.kind === 'refused' && r.error !== 'client deadline' ? undefined : r;
          }, 'an answer');
          assert.deepEqual(f, { kind: 'status', status: 200 });
          const served = servedBy();
          return replaced.every((p) => served.has(p)) ? true : undefined;
        }, 'a request served by each worker, the new one included');
      });
    });
  }
});
