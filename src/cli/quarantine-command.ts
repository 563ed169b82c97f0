import { createRuntime } from '../runtime.js';
import {
  cliLogger,
  loadConfigFrom,
  parse,
  scopeFlag,
  subcommandMessage,
  UsageError,
} from './cli-support.js';
import { progress } from './progress.js';

export const quarantineHelp = `ctp-notify quarantine reprocess [--config FILE] [--issuer ID | --all-issuers] [--quiet]
  Runs every quarantined notification through verify, decrypt and validate again (for example
  after a missing decryption key was installed), with the keys of the issuer it arrived for.
  Those that now pass become accepted. --issuer names one of the configured issuers,
  --all-issuers every one; one of them is required when there are several.`;

export async function quarantineCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'reprocess') throw new UsageError(subcommandMessage(sub));
  const f = parse(rest, {
    config: { type: 'string' },
    quiet: { type: 'boolean' },
    issuer: { type: 'string' },
    'all-issuers': { type: 'boolean' },
  });
  const { config } = loadConfigFrom(f.config);
  const scope = scopeFlag(config, f.issuer, f['all-issuers']);
  const rt = await createRuntime(config, cliLogger());
  const counts = { examined: 0, accepted: 0, stillQuarantined: 0, failed: 0 };
  const bar = progress('reprocess', { quiet: f.quiet === true, unit: ' notifications' });
  try {
    let after = '';
    for (;;) {
      const batch = await rt.store.listQuarantined(scope, 200, after);
      if (batch.length === 0) break;
      for (const row of batch) {
        after = row.id;
        counts.examined++;
        const outcome = await rt.pipelines.reprocess(row);
        if (outcome.kind === 'accepted') counts.accepted++;
        else if (outcome.kind === 'quarantined' || outcome.kind === 'rejected')
          counts.stillQuarantined++;
        else counts.failed++;
        bar.update(counts.examined);
      }
    }
  } finally {
    bar.end();
    await rt.close();
  }
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  return counts.failed === 0 ? 0 : 1;
}
