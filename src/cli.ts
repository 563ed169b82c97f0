#!/usr/bin/env node
import { ConfigError, StorageError } from './errors.js';
import { UsageError } from './cli/cli-support.js';
import { backupCommand, backupHelp } from './cli/backup-command.js';
import { deliveriesCommand, deliveriesHelp } from './cli/deliveries-command.js';
import { cardholdersCommand, cardholdersHelp } from './cli/cardholders-command.js';
import { keysCommand, keysHelp } from './cli/keys-command.js';
import { migrateCommand, migrateHelp } from './cli/migrate-command.js';
import { notificationsCommand, notificationsHelp } from './cli/notifications-command.js';
import { operatorsCommand, operatorsHelp } from './cli/operators-command.js';
import { purgeCommand, purgeHelp } from './cli/purge-command.js';
import { quarantineCommand, quarantineHelp } from './cli/quarantine-command.js';
import { sendCommand, sendHelp } from './cli/send-command.js';
import { serveCommand, serveHelp } from './cli/serve-command.js';
import { sinksCommand, sinksHelp } from './cli/sinks-command.js';
import { workerCommand, workerHelp } from './cli/worker-command.js';

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  serve: serveCommand,
  keys: keysCommand,
  send: sendCommand,
  notifications: notificationsCommand,
  quarantine: quarantineCommand,
  migrate: migrateCommand,
  worker: workerCommand,
  deliveries: deliveriesCommand,
  sinks: sinksCommand,
  cardholders: cardholdersCommand,
  operators: operatorsCommand,
  purge: purgeCommand,
  backup: backupCommand,
};

const help = ['Usage: ctp-notify <command>', '', serveHelp, keysHelp, sendHelp, notificationsHelp, quarantineHelp, migrateHelp, workerHelp, deliveriesHelp, sinksHelp, cardholdersHelp, operatorsHelp, purgeHelp, backupHelp].join('\n\n');

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) throw new UsageError(`unknown command "${name}"\n\n${help}`);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`ctp-notify: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof StorageError) {
      const cause = error.cause as { code?: string; message?: string } | undefined;
      process.stderr.write(`ctp-notify: ${error.message}${cause?.message ? `: ${cause.message}` : ''}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`ctp-notify: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
