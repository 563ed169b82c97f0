import { type DeliveryStatus, MESSAGE_KINDS, type MessageKind } from '../domain/delivery-codes.js';
import { onlyIssuers } from '../domain/issuer-scope.js';
import { presentDelivery } from '../presenters/delivery-presenter.js';
import {
  intFlag,
  loadConfigFrom,
  parse,
  printTable,
  scopeFlag,
  subcommandMessage,
  UsageError,
} from './cli-support.js';
import { withOutbox } from './delivery-cli-support.js';

export const deliveriesHelp = `ctp-notify deliveries list [--config FILE] [--kind event|alert] [--status pending|failed|dead|delivered]
    [--sink NAME] [--issuer ID | --all-issuers] [--limit N] [--format table|json]
ctp-notify deliveries retry [--config FILE] (--id ID | --dead [--sink NAME] [--kind event|alert])
    [--issuer ID | --all-issuers]
ctp-notify deliveries replay [--config FILE] --sink NAME --since ISO-TIME [--issuer ID | --all-issuers]
  The outbox: everything that leaves, one delivery per accepted notification and sink (kind
  event) and one per cardholder alert (kind alert). list: newest first (failed = waiting for its
  next attempt; dead = gave up after the last). retry: a failed or dead delivery (or every dead
  one of a kind: events unless --kind alert) is due now with a fresh attempt budget. replay:
  every notification accepted since ISO-TIME is delivered to the sink again, with the same
  event ids (an issuer's own sink: that issuer's notifications only). --issuer names one of the
  configured issuers, --all-issuers every one; one of them is required when there are several.`;

const STATUSES: readonly DeliveryStatus[] = ['pending', 'failed', 'dead', 'delivered'];

function kindFlag(value: string | undefined): MessageKind | undefined {
  if (value !== undefined && !MESSAGE_KINDS.includes(value as MessageKind))
    throw new UsageError(`--kind must be one of ${MESSAGE_KINDS.join(', ')}`);
  return value as MessageKind | undefined;
}

export async function deliveriesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') return list(rest);
  if (sub === 'retry') return retry(rest);
  if (sub === 'replay') return replay(rest);
  throw new UsageError(subcommandMessage(sub));
}

async function list(argv: string[]): Promise<number> {
  const f = parse(argv, {
    config: { type: 'string' },
    kind: { type: 'string' },
    status: { type: 'string' },
    sink: { type: 'string' },
    issuer: { type: 'string' },
    'all-issuers': { type: 'boolean' },
    limit: { type: 'string' },
    format: { type: 'string', default: 'table' },
  });
  if (f.format !== 'json' && f.format !== 'table')
    throw new UsageError('--format must be json or table');
  const status = f.status as DeliveryStatus | undefined;
  if (status !== undefined && !STATUSES.includes(status))
    throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
  const kind = kindFlag(f.kind);
  const { config } = loadConfigFrom(f.config);
  const scope = scopeFlag(config, f.issuer, f['all-issuers']);
  const rows = await withOutbox(config, (o) =>
    o.list({
      scope,
      limit: intFlag(f.limit, 'limit', 50),
      ...(kind ? { kind } : {}),
      ...(status ? { status } : {}),
      ...(f.sink ? { sink: f.sink } : {}),
    }),
  );
  const now = Date.now();
  const items = rows.map((d) => presentDelivery(d, now));
  if (f.format === 'json') {
    process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    return 0;
  }
  printTable(
    [
      'created',
      'kind',
      'sink',
      'status',
      'attempts',
      'next attempt',
      'last error',
      'notification',
      'id',
    ],
    items.map((d) => [
      d.createdAt.replace('T', ' ').slice(0, 19),
      d.kind,
      d.sink,
      d.inFlight ? `${d.status} (in flight)` : d.status,
      String(d.attempts),
      (d.nextAttemptAt ?? '').replace('T', ' ').slice(0, 19),
      d.lastError ?? '',
      d.notificationId,
      d.id,
    ]),
    '(no deliveries)',
  );
  return 0;
}

async function retry(argv: string[]): Promise<number> {
  const f = parse(argv, {
    config: { type: 'string' },
    id: { type: 'string' },
    dead: { type: 'boolean' },
    sink: { type: 'string' },
    kind: { type: 'string' },
    issuer: { type: 'string' },
    'all-issuers': { type: 'boolean' },
  });
  if ((f.id === undefined) === (f.dead !== true))
    throw new UsageError('give exactly one of --id ID, --dead');
  if (f.id !== undefined && (f.sink !== undefined || f.kind !== undefined))
    throw new UsageError('--sink and --kind go with --dead');
  const kind = kindFlag(f.kind);
  const { config } = loadConfigFrom(f.config);
  const scope = scopeFlag(config, f.issuer, f['all-issuers']);
  const retried = await withOutbox(config, (o) =>
    o.retry(
      f.id !== undefined
        ? { scope, id: f.id }
        : {
            scope,
            dead: true,
            ...(f.sink ? { sink: f.sink } : {}),
            ...(kind ? { kind } : {}),
          },
    ),
  );
  process.stdout.write(`${JSON.stringify({ retried })}\n`);
  if (f.id !== undefined && retried === 0) {
    process.stderr.write(
      'ctp-notify: nothing retried: no failed or dead delivery with that id that is not in flight or already queued again\n',
    );
    return 1;
  }
  return 0;
}

async function replay(argv: string[]): Promise<number> {
  const f = parse(argv, {
    config: { type: 'string' },
    sink: { type: 'string' },
    since: { type: 'string' },
    issuer: { type: 'string' },
    'all-issuers': { type: 'boolean' },
  });
  if (f.sink === undefined || f.since === undefined)
    throw new UsageError('--sink NAME and --since ISO-TIME are required');
  // A date-time with an explicit zone: "since 10:00" must not depend on the operator's TZ.
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(f.since) ||
    Number.isNaN(Date.parse(f.since))
  ) {
    throw new UsageError(
      '--since must be an ISO 8601 date-time with a zone, e.g. 2026-03-01T00:00:00Z',
    );
  }
  const { config } = loadConfigFrom(f.config);
  const sink = config.sinks.find((s) => s.name === f.sink);
  if (!sink) throw new UsageError(`no sink named "${f.sink}" in the config`);
  // An issuer's sink gets its issuer's events only, whatever the flags say.
  const scope =
    sink.issuer !== undefined
      ? onlyIssuers([sink.issuer])
      : scopeFlag(config, f.issuer, f['all-issuers']);
  const queued = await withOutbox(config, (o) =>
    o.replay(sink.name, Date.parse(f.since as string), scope),
  );
  process.stdout.write(`${JSON.stringify({ queued })}\n`);
  return 0;
}
