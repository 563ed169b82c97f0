import { spawnSync } from 'node:child_process';
import { scriptArgs } from '../bench/script-args.js';
import { dialects } from '../test/support/databases.js';
import { assertNoPersonalData } from '../test/support/personal-data.js';
import { testPki } from '../test/support/test-pki.js';
import { type CrashFigures, crashConsistency } from './crash-consistency.js';
import { type OutageFigures, sinkOutage } from './sink-outage.js';
import { serverOutput } from './soak-support.js';

const USAGE = `usage: npm run soak -- [--short] [--kills N] [--outage-seconds S]`;

/**
 * `npm run soak [-- --short] [--kills N] [--outage-seconds S]`: the long-running proofs.
 *   crash consistency: kill -9 under load, N times per database (default 50; --short 20);
 *   sink outage: the webhook sink unreachable for S seconds (default 180; --short 10);
 *   hostile input: the property suites at ten times their `npm test` size (not with --short).
 * Exits non-zero when any promise breaks. CI runs the short form (.ci/run).
 */
const f = scriptArgs(USAGE, {
  short: { type: 'boolean', default: false },
  kills: { type: 'string' },
  'outage-seconds': { type: 'string' },
});
const kills = Number(f.kills ?? (f.short ? 20 : 50));
const outageSeconds = Number(f['outage-seconds'] ?? (f.short ? 10 : 180));
const log = (s: string) => process.stdout.write(`${s}\n`);

const pki = await testPki();
const crash: CrashFigures[] = [];
const outage: OutageFigures[] = [];
let failed = false;
for (const dialect of await dialects()) {
  try {
    log(`# crash consistency on ${dialect.name}: ${kills} kills`);
    crash.push(await crashConsistency(dialect, pki, { kills, concurrency: 8, log }));
    log(`# sink outage on ${dialect.name}: ${outageSeconds} s`);
    outage.push(
      await sinkOutage(dialect, pki, {
        outageMs: outageSeconds * 1000,
        notifications: f.short ? 20 : 200,
        log,
      }),
    );
  } catch (error) {
    failed = true;
    log(
      `FAILED on ${dialect.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
}

try {
  assertNoPersonalData(serverOutput.join('\n'), 'soak server output');
  log(
    `# personal-data scan: ${serverOutput.join('').split('\n').length} lines of server output, clean`,
  );
} catch (error) {
  failed = true;
  log(`FAILED personal-data scan: ${(error as Error).message}`);
}

if (!f.short && !failed) {
  log('# hostile input at 10x');
  const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'hostile'], {
    stdio: 'inherit',
    env: { ...process.env, CTP_FUZZ_SCALE: '10' },
  });
  if (r.status !== 0) failed = true;
}

for (const c of crash) {
  log(
    `# crash ${c.dialect}: ${c.kills} kills survived (${c.killsUnderLoad} under load, ${c.killsDuringStartup} during start-up); ` +
      `${c.requestsSent} requests: ${c.answered200} × 200, ${c.answered500} × 500, ${c.connectionErrors} cut by a kill; ` +
      `acknowledged ${c.acknowledged}, found stored exactly once ${c.acknowledgedFoundStored}; ${c.retriedAfterwards} retried afterwards; ` +
      `${c.notificationsStored} stored; events delivered ${c.eventsDelivered} (+${c.duplicateDeliveries} duplicates); ${c.seconds} s`,
  );
}
for (const o of outage) {
  log(
    `# outage ${o.dialect}: sink down ${o.outageSeconds} s, ${o.notifications} events waited (${o.attemptsDuringOutage} attempts, ${o.deadAfterOutage} dead), ` +
      `all ${o.deliveredAfterReturn} delivered ${o.secondsToDrain} s after it returned`,
  );
}
log(JSON.stringify({ crash, outage }));
log(failed ? '# soak: FAILED' : '# soak: every promise held');
process.exit(failed ? 1 : 0);
