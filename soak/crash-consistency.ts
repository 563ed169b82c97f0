import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI } from '../test/support/cli-process.js';
import type { Dialect } from '../test/support/databases.js';
import type { TestPki } from '../test/support/test-pki.js';
import { WebhookReceiver } from '../test/support/webhook-receiver.js';
import {
  ClientLedger,
  dedupKey,
  driveLoad,
  retryUntilAcknowledged,
  sleep,
  soakConfig,
  spawnServer,
  storedByDedupKey,
  visaMessages,
} from './soak-support.js';

export interface CrashFigures {
  dialect: string;
  kills: number;
  killsDuringStartup: number;
  killsUnderLoad: number;
  requestsSent: number;
  answered200: number;
  answered500: number;
  connectionErrors: number;
  acknowledged: number;
  acknowledgedFoundStored: number;
  retriedAfterwards: number;
  notificationsStored: number;
  eventsDelivered: number;
  duplicateDeliveries: number;
  seconds: number;
}

/**
 * Crash consistency: a real `ctp-notify serve` under load is killed with SIGKILL at random
 * moments, `kills` times, and restarted. After each kill the database is read directly: every
 * request that got a 200 must be stored exactly once. At the end Visa's retries of the
 * unanswered requests are sent until each gets a 200, and every accepted notification's event
 * must reach the webhook receiver at least once (the outbox is written in the notification's
 * transaction; a delivery killed mid-flight is leased again after restart).
 */
export async function crashConsistency(
  dialect: Dialect,
  pki: TestPki,
  o: { kills: number; concurrency: number; log: (s: string) => void },
): Promise<CrashFigures> {
  const started = Date.now();
  const db = await dialect.create();
  const receiver = await new WebhookReceiver().start();
  const { file } = soakConfig(pki, db, `${receiver.url}/events`, 1000);
  const ledger = new ClientLedger();
  const fresh = visaMessages(pki);
  let killsDuringStartup = 0;
  let killsUnderLoad = 0;
  try {
    for (let k = 1; k <= o.kills; k++) {
      const server = spawnServer(file);
      // About one kill in six lands during start-up (keys, migrations, worker start).
      if (Math.random() < 1 / 6) {
        await Promise.race([sleep(50 + Math.random() * 400), server.listening]);
        server.child.kill('SIGKILL');
        await server.exited;
        killsDuringStartup++;
      } else {
        const url = await server.listening;
        assert.ok(url, `server did not start:\n${server.output()}`);
        const load = driveLoad(url, ledger, fresh, o.concurrency);
        await sleep(100 + Math.random() * 1400);
        server.child.kill('SIGKILL');
        const exit = await server.exited;
        assert.equal(exit.signal, 'SIGKILL', 'killed, not exited by itself');
        await load.stop();
        killsUnderLoad++;
      }
      const stored = await storedByDedupKey(db.url);
      for (const e of ledger.acknowledged())
        assert.equal(stored.get(dedupKey(e))?.n, 1, `kill ${k}: a 200 not stored exactly once`);
      const sent = new Set([...ledger.answers.keys()].map(dedupKey));
      for (const key of stored.keys()) assert.ok(sent.has(key), `kill ${k}: a row nobody sent`);
      if (k % 5 === 0)
        o.log(
          `  ${dialect.name}: ${k}/${o.kills} kills, ${ledger.acknowledged().length} acknowledged so far, all stored`,
        );
    }

    // Restart for good: Visa retries what it never got a 200 for; the outbox drains.
    const acknowledgedBeforeRetries = ledger.acknowledged();
    const server = spawnServer(file);
    const url = await server.listening;
    assert.ok(url, `server did not start:\n${server.output()}`);
    const retries = await retryUntilAcknowledged(url, ledger);
    assert.equal(
      ledger.unacknowledged().length,
      0,
      'every retried notification is accepted after the restarts',
    );

    const stored = await storedByDedupKey(db.url);
    const ids = new Set(
      [...stored.values()].filter((r) => r.status === 'accepted').map((r) => r.id),
    );
    const deadline = Date.now() + 120_000;
    const delivered = () =>
      new Set(receiver.answered('/events').map((r) => String(r.headers['webhook-id'])));
    while ([...ids].some((id) => !delivered().has(`evt_${id}`)) && Date.now() < deadline)
      await sleep(200);
    const missing = [...ids].filter((id) => !delivered().has(`evt_${id}`));
    assert.deepEqual(missing, [], 'accepted notifications whose event never reached the sink');
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0, 'clean exit on SIGTERM');

    // The operator's view agrees: `ctp-notify notifications list` (stdout not scanned: names by
    // design).
    const list = spawnSync(
      process.execPath,
      [CLI, 'notifications', 'list', '--config', file, '--format', 'json', '--limit', '1000000'],
      { encoding: 'utf8', maxBuffer: 1 << 30 },
    );
    assert.equal(list.status, 0, list.stderr);
    const listed = JSON.parse(list.stdout) as { id: string; status: string }[];
    assert.equal(
      listed.length,
      ledger.answers.size,
      'notifications list: one row per notification sent, no more',
    );
    assert.equal(new Set(listed.map((r) => r.id)).size, listed.length);
    for (const e of ledger.answers.keys())
      assert.equal(stored.get(dedupKey(e))?.n, 1, 'after retries: stored exactly once');

    const deliveries = receiver.answered('/events').length;
    return {
      dialect: dialect.name,
      kills: o.kills,
      killsDuringStartup,
      killsUnderLoad,
      requestsSent: [...ledger.answers.values()].reduce((n, a) => n + a.length, 0),
      answered200: ledger.count(200),
      answered500: ledger.count(500),
      connectionErrors: ledger.count('error'),
      acknowledged: acknowledgedBeforeRetries.length,
      acknowledgedFoundStored: acknowledgedBeforeRetries.filter(
        (e) => stored.get(dedupKey(e))?.n === 1,
      ).length,
      retriedAfterwards: retries,
      notificationsStored: stored.size,
      eventsDelivered: delivered().size,
      duplicateDeliveries: deliveries - delivered().size,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await receiver.close();
    await db.drop();
  }
}
