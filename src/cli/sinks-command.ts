import { ALL_ISSUERS } from '../domain/issuer-scope.js';
import { presentSinkListItem, sinkOverview } from '../presenters/sink-presenter.js';
import { loadConfigFrom, printTable, subcommandMessage, UsageError } from './cli-support.js';
import { parseWithPositionals, withOutbox } from './delivery-cli-support.js';

export const sinksHelp = `ctp-notify sinks list [--config FILE] [--format table|json]
ctp-notify sinks enable NAME [--config FILE]
ctp-notify sinks disable NAME [--config FILE]
  A webhook answering 410 Gone disables its sink: its deliveries wait (nothing is dropped)
  until an operator enables it again. disable does the same by hand.`;

export async function sinksCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'list' && sub !== 'enable' && sub !== 'disable')
    throw new UsageError(subcommandMessage(sub));
  const { values: f, positionals } = parseWithPositionals(rest, {
    config: { type: 'string' },
    format: { type: 'string', default: 'table' },
  });
  const { config } = loadConfigFrom(f.config);
  if (sub === 'list') {
    if (positionals.length > 0) throw new UsageError('sinks list takes no names');
    const items = (await withOutbox(config, (o) => sinkOverview(o, config.sinks, ALL_ISSUERS))).map(
      presentSinkListItem,
    );
    if (f.format === 'json') process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    else
      printTable(
        ['name', 'type', 'pan', 'state', 'pending', 'failed', 'dead'],
        items.map((s) => [
          s.name,
          s.type,
          s.includePan ? 'yes' : 'no',
          s.enabled ? 'enabled' : `disabled (${s.disabledReason ?? ''} ${s.disabledAt ?? ''})`,
          String(s.pending),
          String(s.failed),
          String(s.dead),
        ]),
        '(no sinks configured)',
      );
    return 0;
  }
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0)
    throw new UsageError(`give one sink name: ctp-notify sinks ${sub} NAME`);
  if (!config.sinks.some((s) => s.name === name))
    throw new UsageError(`no sink named "${name}" in the config`);
  if (sub === 'disable') {
    await withOutbox(config, (o) => o.disableSink(name, 'OPERATOR'));
    process.stdout.write(`${JSON.stringify({ sink: name, enabled: false })}\n`);
  } else {
    const changed = await withOutbox(config, (o) => o.enableSink(name));
    process.stdout.write(
      `${JSON.stringify({ sink: name, enabled: true, wasDisabled: changed })}\n`,
    );
  }
  return 0;
}
