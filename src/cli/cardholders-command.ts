import { existsSync } from 'node:fs';
import { loadSecrets, soleIssuerKeys } from '../keys/load-secrets.js';
import { logSecretWarnings } from '../keys/resolve-secret.js';
import { ImportFileError } from '../risk/directory/cardholder-file.js';
import { importCardholders } from '../risk/directory/cardholder-import.js';
import { openStore } from '../storage/open-store.js';
import { cliLogger, loadConfigFrom, parse, subcommandMessage, UsageError } from './cli-support.js';
import { EXIT } from './exit-codes.js';
import { progress } from './progress.js';

export const cardholdersHelp = `ctp-notify cardholders import [--config FILE] --file cardholders.csv|cardholders.jsonl
    [--quiet]
  Loads the bank's cardholder directory for the fraud assessment. CSV header:
  accountNumber,firstName,lastName,email,phone,status,language (several emails or phones: ";").
  Card numbers are fingerprinted, never stored; contact details are encrypted. A re-import
  updates. Prints {"rows","inserted","updated","skipped","errors":[{"line","code","field"}]};
  exit code 3 when rows were skipped.`;

const MAX_LISTED_ERRORS = 1000;

export async function cardholdersCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'import') throw new UsageError(subcommandMessage(sub));
  const f = parse(rest, {
    config: { type: 'string' },
    file: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (!f.file) throw new UsageError('--file is required');
  if (!existsSync(f.file)) throw new UsageError(`cannot read ${f.file}`);
  const { config } = loadConfigFrom(f.config);
  // The directory belongs to the one issuer risk assessment runs for (checked at start).
  if (config.issuers.length > 1)
    throw new UsageError(
      'the cardholder directory serves one issuer: this configuration has several',
    );
  const secrets = loadSecrets(config);
  logSecretWarnings(cliLogger(), secrets.warnings);
  const store = await openStore(config.storage).catch((e: unknown) => {
    secrets.close();
    throw e;
  });
  try {
    await store.migrate();
    const { cardholders } = store.openRiskStores();
    let report: Awaited<ReturnType<typeof importCardholders>>;
    try {
      const bar = progress('import', { quiet: f.quiet === true, unit: ' rows' });
      try {
        report = await importCardholders(
          f.file,
          cardholders,
          soleIssuerKeys(secrets).dataProtector,
          {
            defaultCountry: config.risk.defaultCountry,
            onProgress: (rows) => bar.update(rows),
          },
        );
      } finally {
        bar.end();
      }
    } catch (e) {
      if (e instanceof ImportFileError) throw new UsageError(e.message);
      throw e;
    }
    const listed = report.errors.slice(0, MAX_LISTED_ERRORS);
    process.stdout.write(
      `${JSON.stringify(
        {
          ...report,
          errors: listed,
          ...(report.errors.length > listed.length
            ? { errorsNotListed: report.errors.length - listed.length }
            : {}),
        },
        null,
        2,
      )}\n`,
    );
    return report.skipped > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    await store.close();
    secrets.close();
  }
}
