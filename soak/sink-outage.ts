import assert from 'node:assert/strict';
import { Agent } from 'undici';
import type { Dialect } from '../test/support/databases.js';
import { TcpProxy } from '../test/support/tcp-proxy.js';
import type { TestPki } from '../test/support/test-pki.js';
import { WebhookReceiver } from '../test/support/webhook-receiver.js';
import {
  ClientLedger,
  deliveryCounts,
  postOnce,
  sleep,
  soakConfig,
  spawnServer,
  storedByDedupKey,
  visaMessages,
} from './soak-support.js';

export interface OutageFigures {
  dialect: string;
  outageSeconds: number;
  notifications: number;
  attemptsDuringOutage: number;
  deliveredDuringOutage: number;
  deadAfterOutage: number;
  deliveredAfterReturn: number;
  secondsToDrain: number;
}

/**
 * A sink down for `outageMs`: its address refuses connections (a TCP proxy in front of the
 * webhook receiver). Notifications keep being accepted; their events wait in the outbox,
 * retried with backoff, none dead-lettered; when the sink returns every one is delivered.
 */
export async function sinkOutage(
  dialect: Dialect,
  pki: TestPki,
  o: { outageMs: number; notifications: number; log: (s: string) => void },
): Promise<OutageFigures> {
  const db = await dialect.create();
  const receiver = await new WebhookReceiver().start();
  const proxy = await new TcpProxy(Number(new URL(receiver.url).port)).start();
  const { file } = soakConfig(pki, db, `http://127.0.0.1:${proxy.port}/events`, 5000);
  const server = spawnServer(file);
  const agent = new Agent({ connections: 4 });
  try {
    const url = await server.listening;
    assert.ok(url, `server did not start:\n${server.output()}`);
    proxy.refuse(true);
    proxy.dropAll();
    const ledger = new ClientLedger();
    const fresh = visaMessages(pki);
    const outageStarted = Date.now();
    for (let i = 0; i < o.notifications; i++)
      assert.equal(
        await postOnce(url, await fresh(), ledger, agent),
        200,
        'accepted while the sink is down',
      );
    while (Date.now() - outageStarted < o.outageMs) {
      await sleep(Math.min(10_000, o.outageMs));
      o.log(
        `  ${dialect.name}: sink down for ${Math.round((Date.now() - outageStarted) / 1000)} s, ${JSON.stringify((await deliveryCounts(db.url)).byStatus)}`,
      );
    }
    const during = await deliveryCounts(db.url);
    assert.equal(receiver.requests.length, 0, 'nothing can have been delivered');
    assert.equal(during.byStatus.dead ?? 0, 0, 'nothing dead-lettered during the outage');
    assert.equal(
      (during.byStatus.failed ?? 0) + (during.byStatus.pending ?? 0),
      o.notifications,
      'every event waiting',
    );

    proxy.refuse(false);
    const returned = Date.now();
    const ids = new Set([...(await storedByDedupKey(db.url)).values()].map((r) => `evt_${r.id}`));
    const delivered = () =>
      new Set(receiver.answered('/events').map((r) => String(r.headers['webhook-id'])));
    while ([...ids].some((id) => !delivered().has(id)) && Date.now() - returned < 120_000)
      await sleep(200);
    assert.deepEqual(
      [...ids].filter((id) => !delivered().has(id)),
      [],
      'events never delivered after the sink returned',
    );
    return {
      dialect: dialect.name,
      outageSeconds: Math.round(o.outageMs / 1000),
      notifications: o.notifications,
      attemptsDuringOutage: during.attempts,
      deliveredDuringOutage: 0,
      deadAfterOutage: during.byStatus.dead ?? 0,
      deliveredAfterReturn: delivered().size,
      secondsToDrain: Math.round((Date.now() - returned) / 100) / 10,
    };
  } finally {
    await agent.close();
    server.child.kill('SIGTERM');
    await server.exited;
    await proxy.close();
    await receiver.close();
    await db.drop();
  }
}
