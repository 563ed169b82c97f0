import { NOTIFICATION_STATUSES, type NotificationStatus } from '../domain/notification-statuses.js';
import { maskedPan, presentNotificationListItem } from '../presenters/notification-presenter.js';
import { openStore } from '../storage/open-store.js';
import {
  intFlag,
  loadConfigFrom,
  parse,
  printTable,
  scopeFlag,
  subcommandMessage,
  UsageError,
} from './cli-support.js';

export const notificationsHelp = `ctp-notify notifications list [--config FILE] [--issuer ID | --all-issuers] [--format json|table] [--limit N] [--status accepted|quarantined]
  Newest first. --issuer names one of the configured issuers, --all-issuers every one; one of them is
  required when there are several.
  Card numbers appear only as BIN and last four. Each accepted notification shows its
  fraud assessment: risk {score 0-100, level low|medium|high, reasons [{code, detail}]}.`;

export async function notificationsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'list') throw new UsageError(subcommandMessage(sub));
  const f = parse(rest, {
    config: { type: 'string' },
    format: { type: 'string', default: 'table' },
    limit: { type: 'string' },
    status: { type: 'string' },
    issuer: { type: 'string' },
    'all-issuers': { type: 'boolean' },
  });
  if (f.format !== 'json' && f.format !== 'table')
    throw new UsageError('--format must be json or table');
  const status = f.status as NotificationStatus | undefined;
  if (status !== undefined && !NOTIFICATION_STATUSES.includes(status))
    throw new UsageError(`--status must be ${NOTIFICATION_STATUSES.join(' or ')}`);
  const { config } = loadConfigFrom(f.config);
  const scope = scopeFlag(config, f.issuer, f['all-issuers']);
  const store = await openStore(config.storage);
  try {
    await store.migrate();
    // The console's listing: notifications with their assessments, newest first.
    const rows = await store.openAdminStores().notifications.search({
      scope,
      limit: intFlag(f.limit, 'limit', 50),
      ...(status ? { status } : {}),
    });
    const items = rows.map(presentNotificationListItem);
    if (f.format === 'json') process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
    else printNotifications(items);
  } finally {
    await store.close();
  }
  return 0;
}

function printNotifications(items: ReturnType<typeof presentNotificationListItem>[]): void {
  const header = [
    'received',
    'status',
    'reason',
    'risk',
    'event',
    'requestor',
    'tsp',
    'card',
    'enroller',
    'email',
    'id',
  ];
  const rows = items.map((n) => [
    n.receivedAt.replace('T', ' ').slice(0, 19),
    n.status,
    n.reason ?? '',
    n.risk ? `${n.risk.level} ${n.risk.score}` : '',
    n.eventType,
    n.tokenRequestorId,
    n.tsp ?? '',
    maskedPan(n) ?? '',
    [n.firstName, n.lastName].filter(Boolean).join(' '),
    n.contactEmail ?? '',
    n.id,
  ]);
  printTable(header, rows, '(no notifications)');
}
