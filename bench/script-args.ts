import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * The options of a bench, soak or eval script, with `--help`: the usage goes to stdout (exit 0);
 * an unknown option or a bad value prints the message and the usage to stderr (exit 2), as the
 * `ctp-notify` commands do, rather than a stack trace.
 */
export function scriptArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  usage: string,
  options: T,
) {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ options }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${usage.trim()}\n`);
    process.exit(2);
  }
}
