import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  ErrorBody,
  IdParams,
  NotificationDetail,
  NotificationFilters,
  NotificationItem,
  Page,
} from '../api/api-schemas.js';
import type { IssuerScope } from '../domain/issuer-scope.js';
import {
  presentNotification,
  presentNotificationDetail,
} from '../presenters/notification-presenter.js';
import type { NotificationFilter, NotificationRow } from '../storage/notification-queries.js';
import type { AdminContext } from './admin-context.js';
import { audit, errorBody } from './auth.js';
import { requestScope } from './request-scope.js';

const ListQuery = Type.Object(NotificationFilters, { additionalProperties: false });
const SearchBody = Type.Object(
  {
    ...NotificationFilters,
    pan: Type.String({
      pattern: '^[0-9][0-9 -]{10,24}[0-9]$',
      description: 'Card number typed by the operator; fingerprinted, never stored or logged',
    }),
  },
  { additionalProperties: false },
);
const NotificationPage = Page(NotificationItem, 'NotificationPage');
const NO_SUCH_ISSUER = errorBody('NOT_FOUND', 'no such issuer');

const encodeCursor = (n: NotificationRow) =>
  Buffer.from(JSON.stringify([n.receivedAt, n.id])).toString('base64url');

function decodeCursor(c: string): { receivedAt: number; id: string } | undefined {
  try {
    const [t, id] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown[];
    return typeof t === 'number' && typeof id === 'string' ? { receivedAt: t, id } : undefined;
  } catch {
    return undefined;
  }
}

type Filters = Static<typeof ListQuery>;

function toFilter(q: Filters, scope: IssuerScope): NotificationFilter | string {
  const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  if (q.cursor !== undefined && before === undefined) return 'cursor is not one this API returned';
  return {
    scope,
    from: q.from ? Date.parse(q.from) : undefined,
    to: q.to ? Date.parse(q.to) : undefined,
    status: q.status,
    tokenRequestorId: q.tokenRequestorId,
    last4: q.last4,
    fingerprint: q.fingerprint,
    riskLevel: q.risk,
    before,
    limit: q.limit ?? 50,
  };
}

export async function notificationRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const page = async (f: NotificationFilter) => {
    const rows = await ctx.notifications.search({ ...f, limit: f.limit + 1 });
    const items = rows.slice(0, f.limit);
    return {
      items: items.map(presentNotification),
      next: rows.length > f.limit ? encodeCursor(items[items.length - 1]!) : null,
    };
  };

  app.get<{ Querystring: Filters }>(
    '/api/notifications',
    {
      schema: {
        summary: 'Notifications, newest first, with filters; cursor-paged',
        tags: ['notifications'],
        querystring: ListQuery,
        response: { 200: NotificationPage, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const scope = requestScope(req, req.query.issuer);
      if (!scope) return reply.code(404).send(NO_SUCH_ISSUER);
      const f = toFilter(req.query, scope);
      if (typeof f === 'string') return reply.code(400).send(errorBody('BAD_CURSOR', f));
      const p = await page(f);
      // PCI DSS v4 10.2.1.1: each page shows enrollers' names and contacts, so each is logged,
      // with the filters used; one that singles out a card is a look-up by card, as the search is.
      const { cursor, limit, ...filters } = req.query;
      const byCard = filters.fingerprint !== undefined || filters.last4 !== undefined;
      await audit(ctx, req, {
        action: byCard ? 'notification.search_by_card' : 'notification.list',
        target: null,
        outcome: 'ok',
        detail: {
          ...(byCard
            ? { last4: filters.last4 ?? null, byFingerprint: filters.fingerprint !== undefined }
            : {}),
          filters: Object.keys(filters).sort(),
          count: p.items.length,
          page: cursor === undefined ? 'first' : 'next',
        },
      });
      return p;
    },
  );

  app.post<{ Body: Static<typeof SearchBody> }>(
    '/api/notifications/search',
    {
      schema: {
        summary:
          'Search by a card number typed by the operator (POST, so the number stays out of URLs and logs)',
        description:
          "The number is fingerprinted with the service's keyed HMAC and discarded; the response is a page like GET /api/notifications. Page on by sending `cursor` with the same body.",
        tags: ['notifications'],
        body: SearchBody,
        response: { 200: NotificationPage, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const { pan, ...rest } = req.body;
      const digits = pan.replace(/[ -]/g, '');
      if (!/^[0-9]{12,19}$/.test(digits))
        return reply.code(400).send(errorBody('PAN_INVALID', 'a card number has 12 to 19 digits'));
      const scope = requestScope(req, rest.issuer);
      if (!scope) return reply.code(404).send(NO_SUCH_ISSUER);
      const f = toFilter(rest, scope);
      if (typeof f === 'string') return reply.code(400).send(errorBody('BAD_CURSOR', f));
      // Fingerprinted only under the keys of the issuers the operator may see.
      f.fingerprints = [...ctx.secrets.issuers]
        .filter(([issuer]) => 'all' in scope || scope.issuers.includes(issuer))
        .map(([issuer, keys]) => ({ issuer, fingerprint: keys.dataProtector.fingerprint(digits) }));
      if (f.fingerprints.length === 0) return { items: [], next: null };
      // PCI DSS v4 10.2.1.1: every look-up by card number is logged, each page of it included:
      // a cursor is the client's to send, so it cannot stand for an audited first page.
      const p = await page(f);
      await audit(ctx, req, {
        action: 'notification.search_by_card',
        target: null,
        outcome: 'ok',
        detail: {
          last4: digits.slice(-4),
          count: p.items.length,
          page: rest.cursor === undefined ? 'first' : 'next',
        },
      });
      return p;
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/notifications/:id',
    {
      schema: {
        summary: 'One notification: masked card, enroller, reason',
        tags: ['notifications'],
        params: IdParams,
        response: { 200: NotificationDetail, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const n = await ctx.notifications.detail(req.params.id, req.operator!.scope);
      if (!n) return reply.code(404).send(errorBody('NOT_FOUND', 'no such notification'));
      // PCI DSS v4 10.2.1.1: individual access to cardholder data is logged.
      await audit(ctx, req, {
        action: 'notification.view',
        target: n.id,
        outcome: 'ok',
        issuer: n.issuer,
      });
      return presentNotificationDetail(n);
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/notifications/:id/reprocess',
    {
      config: { minRole: 'analyst' },
      schema: {
        summary: 'Run a quarantined notification through verify, decrypt and validate again',
        tags: ['notifications'],
        params: IdParams,
        response: {
          200: Type.Object({
            id: Type.String(),
            status: Type.String(),
            reason: Type.Union([Type.String(), Type.Null()]),
          }),
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const scope = req.operator!.scope;
      const row = await ctx.notifications.quarantined(req.params.id, scope);
      if (!row) {
        const exists = await ctx.notifications.detail(req.params.id, scope);
        return exists
          ? reply
              .code(409)
              .send(
                errorBody('NOT_QUARANTINED', 'only quarantined notifications can be reprocessed'),
              )
          : reply.code(404).send(errorBody('NOT_FOUND', 'no such notification'));
      }
      const outcome = await ctx.pipelines.reprocess(row);
      const result =
        outcome.kind === 'accepted'
          ? { status: 'accepted', reason: null }
          : outcome.kind === 'quarantined' || outcome.kind === 'rejected'
            ? { status: 'quarantined', reason: outcome.code }
            : { status: 'failed', reason: outcome.code };
      await audit(ctx, req, {
        action: 'notification.reprocess',
        target: row.id,
        issuer: row.issuer,
        outcome: outcome.kind === 'failed' ? 'failed' : 'ok',
        detail: { before: row.reason, after: result.status, reason: result.reason },
      });
      if (outcome.kind === 'failed')
        return reply.code(503).send(errorBody(outcome.code, 'could not reprocess now'));
      return { id: row.id, ...result };
    },
  );
}
