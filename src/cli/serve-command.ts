import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../logger.js';
import { catchReloadSignal, serve } from '../server.js';
import { explicitConfigPath, intFlag, parse } from './cli-support.js';
import { devHome, ensureDevOperator, ensureDevSetup } from './dev-setup.js';

export const serveHelp = `ctp-notify serve [--config FILE] [--workers N]
  Serves Visa's notification endpoint, and runs the outbox worker when sinks or cardholder alerts are configured
  (unless "delivery": {"runInServe": false}). Without --config (or $CTP_NOTIFY_CONFIG), uses (and on first run creates) a
  development setup in $CTP_NOTIFY_HOME (default ./.ctp-notify).`;

export async function serveCommand(argv: string[]): Promise<number> {
  // Before anything slow: a `systemctl reload` while starting must not end the process.
  catchReloadSignal();
  const flags = parse(argv, { config: { type: 'string' }, workers: { type: 'string' } });
  const explicit = explicitConfigPath(flags.config);
  let configPath = explicit;
  if (configPath === undefined && cluster.isWorker) configPath = `${devHome()}/config.json`;
  if (configPath === undefined) {
    const home = devHome();
    const { configPath: path, created } = await ensureDevSetup(home);
    configPath = path;
    if (created.length > 0) {
      process.stderr.write(
        `\nDevelopment setup created in ${home} (NOT for production: keys are local, Visa's signing key is a stand-in):\n`,
      );
      for (const f of created)
        process.stderr.write(
          `  ${f}${f.endsWith('.sqlite') && !existsSync(f) ? '  (created on start)' : ''}\n`,
        );
    } else {
      process.stderr.write(`Using the development setup in ${home} (config ${configPath}).\n`);
    }
    process.stderr.write(
      `Try:  npx ctp-notify send            (acts as Visa: signs and encrypts a sample notification)\n` +
        `      npx ctp-notify notifications list\n` +
        `      npx ctp-notify cardholders import --file ${home}/cardholders.sample.csv   (the sample's cardholder on file, for the fraud assessment)\n\n`,
    );
  }
  const config = loadConfig(configPath);
  if (explicit === undefined && cluster.isPrimary && config.admin) {
    const issued = await ensureDevOperator(config);
    if (issued) {
      process.stderr.write(
        `Console operator created (shown once; \`ctp-notify operators add\` makes more):\n` +
          `  user name: ${issued.name}\n  password:  ${issued.password}\n  API token: ${issued.apiToken}\n\n`,
      );
    }
  }
  const logger = createLogger(config.log.level);
  await serve(config, logger, {
    configFile: configPath,
    workers: flags.workers === undefined ? undefined : intFlag(flags.workers, 'workers', 1),
    onAdminListening: (url) =>
      process.stderr.write(
        `\nOperator console: ${url}/   (admin API: ${url}/api/openapi.json, metrics: ${url}/metrics)\n\n`,
      ),
  });
  return -1; // keep running
}
