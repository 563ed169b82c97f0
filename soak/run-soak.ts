import { spawnSync } from 'node:child_process';
import { scriptArgs } from '../bench/script-args.js';
import { dialects, postgresAvailable } from '../test/support/databases.js';
import { assertNoPersonalData } from '../test/support/personal-data.js';
import { testPki } from '../test/support/test-pki.js';
import { type CrashFigures, crashConsistency } from './crash-consistency.js';
import {
  canRestartPostgres,
  type PgTwoInstancesFigures,
  pgTwoInstances,
} from './pg-two-instances.js';
import { type OutageFigures, sinkOutage } from './sink-outage.js';
import { serverOutput } from './soak-support.js';

const SCENARIOS = ['crash', 'outage', 'pg-two-instances', 'hostile'] as const;
const USAGE = `usage: npm run soak -- [--short] [--kills N] [--outage-seconds S] [--pg-seconds S]
       [--only ${SCENARIOS.join('|')}]...`;

/**
 * `npm run soak [-- --short] [--kills N] [--outage-seconds S] [--pg-seconds S] [--only NAME]`:
 * the long-running proofs.
 *   crash consistency: kill -9 under load, N times per database (default 50; --short 20);
 *   sink outage: the webhook sink unreachable for S seconds (default 180; --short 10);
 *   pg-two-instances: two instances on one PostgreSQL at 200 notifications/s for S seconds
 *     (default 30; --short 10), every attempt alerted, one webhook sink; then the same load with
 *     PostgreSQL restarted halfway (PostgreSQL only);
 *   hostile input: the property suites at ten times their `npm test` size (not with --short).
 * `--only` (repeatable) runs just the scenarios named. Exits non-zero when any promise breaks.
 * CI runs the short form (.ci/run).
 */
const f = scriptArgs(USAGE, {
  short: { type: 'boolean', default: false },
  kills: { type: 'string' },
  'outage-seconds': { type: 'string' },
  'pg-seconds': { type: 'string' },
  only: { type: 'string', multiple: true },
});
const kills = Number(f.kills ?? (f.short ? 20 : 50));
const outageSeconds = Number(f['outage-seconds'] ?? (f.short ? 10 : 180));
const pgSeconds = Number(f['pg-seconds'] ?? (f.short ? 10 : 30));
for (const name of f.only ?? [])
  if (!(SCENARIOS as readonly string[]).includes(name)) {
    process.stderr.write(`unknown scenario ${name}\n\n${USAGE}\n`);
    process.exit(2);
  }
const runs = (name: (typeof SCENARIOS)[number]) => f.only === undefined || f.only.includes(name);
const log = (s: string) => process.stdout.write(`${s}\n`);

const pki = await testPki();
const crash: CrashFigures[] = [];
const outage: OutageFigures[] = [];
let pgTwo: PgTwoInstancesFigures | undefined;
let failed = false;
for (const dialect of runs('crash') || runs('outage') ? await dialects() : []) {
  try {
    if (runs('crash')) {
      log(`# crash consistency on ${dialect.name}: ${kills} kills`);
      crash.push(await crashConsistency(dialect, pki, { kills, concurrency: 8, log }));
    }
    if (runs('outage')) {
      log(`# sink outage on ${dialect.name}: ${outageSeconds} s`);
      outage.push(
        await sinkOutage(dialect, pki, {
          outageMs: outageSeconds * 1000,
          notifications: f.short ? 20 : 200,
          log,
        }),
      );
    }
  } catch (error) {
    failed = true;
    log(
      `FAILED on ${dialect.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }
}

if (runs('pg-two-instances')) {
  if (!(await postgresAvailable())) {
    if (process.env.CI === 'true') {
      failed = true;
      log('FAILED pg-two-instances: PostgreSQL is required under CI=true but does not answer');
    } else log('# SKIPPING pg-two-instances: PostgreSQL does not answer');
  } else {
    const restart = canRestartPostgres();
    if (!restart)
      log(
        "# pg-two-instances: not root, or not this machine's cluster: the restart phase is skipped",
      );
    // The bound is 5 s after the last answer, and the full form holds it to that. The
    // short form (CI: a shared 2-core machine where the load, both instances, PostgreSQL and the
    // receiver share two cores, and other jobs run beside) reports the figure and holds it only
    // to 60 s, so as not to be flaky: measured there 25-32 s in 10 s runs, most of it the risk
    // assessments falling behind the 200/s accepted (the events wait up to
    // risk.deliveryWaitSeconds, 30 s, for them; the alerts come of them). 30 s was too close.
    const boundSeconds = f.short ? 60 : 5;
    log(
      `# two instances on PostgreSQL: 200/s for ${pgSeconds} s, alerts and a sink; bound ${boundSeconds} s` +
        (restart ? '; then PostgreSQL restarted under that load' : ''),
    );
    try {
      pgTwo = await pgTwoInstances(pki, {
        seconds: pgSeconds,
        rate: 200,
        boundSeconds,
        restart,
        log,
      });
    } catch (error) {
      failed = true;
      log(
        `FAILED pg-two-instances: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }
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

if (!f.short && !failed && runs('hostile')) {
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
if (pgTwo) {
  const s = pgTwo.steady;
  log(
    `# two instances on PostgreSQL: ${s.notifications} notifications at ${s.rateAchieved}/s (offered ${s.rateOffered}/s), ` +
      `${s.accepted} accepted (${s.answered500} × 500, ${s.connectionErrors} cut; p50/p99 ${s.p50Ms}/${s.p99Ms} ms); ` +
      `${s.eventsDelivered} events (+${s.duplicateEvents} duplicates) and ${s.alertsDelivered} alerts (+${s.duplicateAlerts}), ` +
      `the last event ${s.lastEventAfterLastAnswerS} s and the last alert ${s.lastAlertAfterLastAnswerS} s after the last answer (bound ${pgTwo.boundSeconds} s)`,
  );
  const r = pgTwo.restart;
  if (r)
    log(
      `# PostgreSQL restarted (${r.restartSeconds} s) under ${r.notifications} notifications at ${r.rateAchieved}/s: ` +
        `${r.answered500} × 500 and ${r.connectionErrors} cut, retried; ${r.accepted} accepted, ${r.stored} stored once; ` +
        `${r.eventsDelivered} events (+${r.duplicateEvents} duplicates) and ${r.alertsDelivered} alerts (+${r.duplicateAlerts}), ` +
        `${r.dead} dead; drained ${r.drainedAfterRestartS} s after the restart began, ` +
        `the last event ${r.lastEventAfterLastAnswerS} s and the last alert ${r.lastAlertAfterLastAnswerS} s after the last answer`,
    );
}
log(JSON.stringify({ crash, outage, pgTwoInstances: pgTwo }));
log(failed ? '# soak: FAILED' : '# soak: every promise held');
process.exit(failed ? 1 : 0);
