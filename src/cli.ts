#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { backupCommand, backupHelp } from './cli/backup-command.js';
import { cardholdersCommand, cardholdersHelp } from './cli/cardholders-command.js';
import { UsageError } from './cli/cli-support.js';
import { deliveriesCommand, deliveriesHelp } from './cli/deliveries-command.js';
import { EXIT } from './cli/exit-codes.js';
import { keysCommand, keysHelp } from './cli/keys-command.js';
import { migrateCommand, migrateHelp } from './cli/migrate-command.js';
import { notificationsCommand, notificationsHelp } from './cli/notifications-command.js';
import { operatorsCommand, operatorsHelp } from './cli/operators-command.js';
import { purgeCommand, purgeHelp } from './cli/purge-command.js';
import { quarantineCommand, quarantineHelp } from './cli/quarantine-command.js';
import { riskCommand, riskHelp } from './cli/risk-command.js';
import { sendCommand, sendHelp } from './cli/send-command.js';
import { serveCommand, serveHelp } from './cli/serve-command.js';
import { sinksCommand, sinksHelp } from './cli/sinks-command.js';
import { workerCommand, workerHelp } from './cli/worker-command.js';
import { ConfigError, StorageError } from './errors.js';

interface Command {
  run: (argv: string[]) => Promise<number>;
  help: string;
}

const commands: Record<string, Command> = {
  serve: { run: serveCommand, help: serveHelp },
  worker: { run: workerCommand, help: workerHelp },
  send: { run: sendCommand, help: sendHelp },
  notifications: { run: notificationsCommand, help: notificationsHelp },
  quarantine: { run: quarantineCommand, help: quarantineHelp },
  deliveries: { run: deliveriesCommand, help: deliveriesHelp },
  sinks: { run: sinksCommand, help: sinksHelp },
  cardholders: { run: cardholdersCommand, help: cardholdersHelp },
  operators: { run: operatorsCommand, help: operatorsHelp },
  risk: { run: riskCommand, help: riskHelp },
  keys: { run: keysCommand, help: keysHelp },
  migrate: { run: migrateCommand, help: migrateHelp },
  purge: { run: purgeCommand, help: purgeHelp },
  backup: { run: backupCommand, help: backupHelp },
};

const overview = `Usage: ctp-notify COMMAND [OPTIONS]
       ctp-notify help COMMAND | COMMAND --help | --version

Commands: ${Object.keys(commands).join(', ')}.
Exit codes: 0 done, 1 failure, 2 wrong command line or invalid configuration,
3 done but rows skipped (cardholders import).

${Object.values(commands)
  .map((c) => c.help)
  .join('\n\n')}`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `--help` or `-h` among a command's own arguments (not after `--`). */
function asksForHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

let usageFor = overview;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(`${overview}\n`);
    return EXIT.usage;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`ctp-notify ${version()}\n`);
    return EXIT.ok;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0];
    if (topic === undefined) process.stdout.write(`${overview}\n`);
    else if (commands[topic]) process.stdout.write(`${commands[topic].help}\n`);
    else throw new UsageError(`unknown command "${topic}"`);
    return EXIT.ok;
  }
  const command = commands[name];
  if (command === undefined) throw new UsageError(`unknown command "${name}"`);
  usageFor = command.help;
  if (asksForHelp(rest)) {
    process.stdout.write(`${command.help}\n`);
    return EXIT.ok;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`ctp-notify: ${error.message}\n\n${usageFor}\n`);
      process.exitCode = EXIT.usage;
    } else if (error instanceof ConfigError) {
      process.stderr.write(`ctp-notify: ${error.message}\n`);
      process.exitCode = EXIT.usage;
    } else if (error instanceof StorageError) {
      const cause = error.cause as { code?: string; message?: string } | undefined;
      process.stderr.write(
        `ctp-notify: ${error.message}${cause?.message ? `: ${cause.message}` : ''}\n`,
      );
      process.exitCode = EXIT.failure;
    } else {
      process.stderr.write(
        `ctp-notify: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
      );
      process.exitCode = EXIT.failure;
    }
  },
);
