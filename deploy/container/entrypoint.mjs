#!/usr/bin/env node
// The image's entry point: `ctp-notify ARGS`, with `--config $CTP_NOTIFY_CONFIG` added for the
// commands that read a config when ARGS name none (the CLI itself takes the path only from
// --config). Runs the CLI in this same process, so signals reach it directly and node:cluster
// workers re-run this file with the completed arguments.
const READS_CONFIG = new Set(['serve', 'notifications', 'quarantine', 'migrate', 'worker', 'deliveries', 'sinks', 'cardholders', 'operators', 'purge']);
const args = process.argv.slice(2);
const configPath = process.env.CTP_NOTIFY_CONFIG;
const named = args.some((a) => a === '--config' || a.startsWith('--config='));
const asksHelp = args.some((a) => a === '--help' || a === '-h');
if (configPath && READS_CONFIG.has(args[0] ?? '') && !named && !asksHelp) process.argv.push('--config', configPath);
await import('/app/dist/src/cli.js');
