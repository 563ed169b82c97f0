import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { buildEvent } from '../../src/events/ctp-event.js';
import { attemptPayload } from '../support/cardholder-fixtures.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { testPan } from '../support/personal-data.js';
import { secretEnv } from '../support/secret-env.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

const claim = { sink: 'fraud-ops', limit: 10, leaseMs: 60_000, workerId: 'risk-delivery-test' };

for (const dialect of await dialects()) {
  describe(`delivery waits for the risk assessment on ${dialect.name}`, () => {
    let db: TestDatabase;
    let s: TestServer;
    let directory: Server;
    const held: ServerResponse[] = [];

    before(async () => {
      // The bank's directory answers only when the test lets it: the assessment is held back.
      directory = createServer((req: IncomingMessage, res: ServerResponse) => {
        req.resume();
        req.on('end', () => held.push(res));
      });
      await new Promise<void>((r) => directory.listen(0, '127.0.0.1', r));
      db = await dialect.create();
      s = await startTestServer(await testPki(), {
        storageUrl: db.url,
        extra: {
          directory: {
            type: 'http',
            url: `http://127.0.0.1:${(directory.address() as { port: number }).port}/`,
            timeoutMs: 60_000,
            cacheSeconds: 0,
          },
          sinks: [
            {
              name: 'fraud-ops',
              type: 'webhook',
              url: 'http://127.0.0.1:9/never-called',
              secrets: [secretEnv(`whsec_${randomBytes(32).toString('base64')}`)],
            },
          ],
          risk: { deliveryWaitSeconds: 30 },
        },
      });
    });
    after(async () => {
      for (const r of held) r.destroy();
      await s.close();
      directory.closeAllConnections();
      await new Promise((r) => directory.close(r));
      await db.drop();
    });

    it('not claimable until assessed (or older than risk.deliveryWaitSeconds); the event then carries risk', async () => {
      assert.equal(
        (
          await s.post({
            encryptedData: await s.encode(
              attemptPayload(testPan(66_001), { firstName: 'Ann', lastName: 'Other' }),
            ),
          })
        ).status,
        200,
      );
      await eventually(async () => (held.length === 1 ? true : undefined), 'the directory call');
      assert.deepEqual(await s.runtime.outbox.claim(claim), [], 'waiting for the assessment');

      // Past the wait, a delivery goes without the assessment (a stuck directory must not stop
      // delivery).
      const later = s.runtime.store.openOutbox({
        riskWaitMs: 30_000,
        now: () => Date.now() + 31_000,
      });
      const [late] = await later.claim(claim);
      assert.ok(late, 'claimable after the wait');
      assert.equal(late.source.risk, null);
      assert.equal(buildEvent(late.source, { includePan: false }).risk, null);
      // Hand it back (as a failed attempt due now) so the rest of the test can claim it.
      assert.ok(
        await later.fail(late.id, late.leaseToken, {
          error: 'TEST',
          httpStatus: null,
          nextAttemptAt: 0,
          dead: false,
        }),
      );

      const res = held.shift()!;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'blocked', firstName: 'Ann', lastName: 'Other' }));
      const [row] = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 });
      await eventually(
        async () => ((await s.runtime.risk!.stores.risk.isAssessed(row!.id)) ? true : undefined),
        'assessment',
      );
      const [d] = await s.runtime.outbox.claim(claim);
      assert.ok(d, 'claimable once assessed');
      const event = buildEvent(d.source, { includePan: false });
      assert.deepEqual(event.risk, {
        score: 80,
        level: 'high',
        reasons: [{ code: 'CARD_NOT_ACTIVE', detail: 'status=blocked' }],
      });
      assert.ok(await s.runtime.outbox.complete(d.id, d.leaseToken));
    });

    it('a waiting delivery is written due after the wait, and saving the assessment makes it due then', async () => {
      assert.equal(
        (
          await s.post({
            encryptedData: await s.encode(
              attemptPayload(testPan(66_002), { firstName: 'Ann', lastName: 'Other' }),
            ),
          })
        ).status,
        200,
      );
      await eventually(async () => (held.length === 1 ? true : undefined), 'the directory call');
      const [row] = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 1 });
      const [waiting] = await s.runtime.outbox.list({
        scope: ALL_ISSUERS,
        notificationId: row!.id,
      });
      // Due only after the wait: a claim's scan of due deliveries does not pass over it.
      assert.equal(waiting!.nextAttemptAt, waiting!.createdAt + 30_000);
      const res = held.shift()!;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'active', firstName: 'Ann', lastName: 'Other' }));
      await eventually(
        async () => ((await s.runtime.risk!.stores.risk.isAssessed(row!.id)) ? true : undefined),
        'assessment',
      );
      const [released] = await s.runtime.outbox.list({
        scope: ALL_ISSUERS,
        notificationId: row!.id,
      });
      const assessedAt = (await s.runtime.risk!.stores.risk.assessments([row!.id])).get(
        row!.id,
      )!.assessedAt;
      assert.equal(released!.nextAttemptAt, assessedAt);
      assert.equal((await s.runtime.outbox.claim(claim)).length, 1);
    });
  });
}
