import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  DeliveryItem,
  DeliveryStatusSchema,
  ErrorBody,
  Page,
  SinkItem,
} from '../api/api-schemas.js';
import { MESSAGE_KINDS } from '../domain/delivery-codes.js';
import { ISSUER_ID_PATTERN } from '../domain/issuer-ids.js';
import { narrowScope } from '../domain/issuer-scope.js';
import { presentDelivery } from '../presenters/delivery-presenter.js';
import { presentSink, sinkOverview } from '../presenters/sink-presenter.js';
import type { DeliverySummary } from '../storage/outbox-store.js';
import { literalUnion } from '../util/literal-union.js';
import type { AdminContext } from './admin-context.js';
import { audit, errorBody } from './auth.js';
import { requestScope } from './request-scope.js';
import { sinksOf } from './sinks-of.js';

const SinkName = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' });

const MessageKind = literalUnion(MESSAGE_KINDS, {
  description: "event: for the sinks; alert: the cardholders' alerts",
});

const IssuerParam = Type.Optional(
  Type.String({ pattern: ISSUER_ID_PATTERN, description: "One issuer's" }),
);

const DeliveryQuery = Type.Object(
  {
    kind: Type.Optional(MessageKind),
    status: Type.Optional(DeliveryStatusSchema),
    sink: Type.Optional(SinkName),
    notificationId: Type.Optional(Type.String({ pattern: '^[0-9a-f-]{36}$' })),
    issuer: IssuerParam,
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);

const encodeCursor = (d: DeliverySummary) =>
  Buffer.from(JSON.stringify([d.createdAt, d.id])).toString('base64url');
function decodeCursor(c: string): { createdAt: number; id: string } | undefined {
  try {
    const [t, id] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown[];
    return typeof t === 'number' && typeof id === 'string' ? { createdAt: t, id } : undefined;
  } catch {
    return undefined;
  }
}

/** Deliveries (the dead-letter queue is `status=dead`), retries, replays and sink switches. */
export async function deliveryRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const outbox = ctx.outbox;
  /** The sink, when the request's operator may see it (another issuer's is unknown to them). */
  const visible = (req: FastifyRequest, name: string) =>
    sinksOf(ctx.config.sinks, req.operator!.scope).find((s) => s.name === name);
  const NO_SUCH_SINK = errorBody('NOT_FOUND', 'no such sink');

  app.get<{ Querystring: Static<typeof DeliveryQuery> }>(
    '/api/deliveries',
    {
      schema: {
        summary:
          "Deliveries (events to sinks, and cardholders' alerts: kind), newest first; status=dead is the dead-letter queue",
        tags: ['deliveries'],
        querystring: DeliveryQuery,
        response: { 200: Page(DeliveryItem, 'DeliveryPage'), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const scope = requestScope(req, q.issuer);
      if (!scope) return reply.code(404).send(errorBody('NOT_FOUND', 'no such issuer'));
      const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      if (q.cursor !== undefined && before === undefined)
        return reply.code(400).send(errorBody('BAD_CURSOR', 'cursor is not one this API returned'));
      const limit = q.limit ?? 50;
      const rows = await outbox.list({
        scope,
        kind: q.kind,
        status: q.status,
        sink: q.sink,
        notificationId: q.notificationId,
        before,
        limit: limit + 1,
      });
      const items = rows.slice(0, limit);
      const now = ctx.now();
      return {
        items: items.map((d) => presentDelivery(d, now)),
        next: rows.length > limit ? encodeCursor(items[items.length - 1]!) : null,
      };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/deliveries/:id/retry',
    {
      config: { minRole: 'analyst' },
      schema: {
        summary:
          'Retry one failed or dead delivery now, with a fresh attempt budget (same event id)',
        tags: ['deliveries'],
        params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) }),
        response: {
          200: Type.Object({ retried: Type.Integer() }),
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const scope = req.operator!.scope;
      const [known] = await outbox.list({ scope, id: req.params.id, limit: 1 });
      if (!known) return reply.code(404).send(errorBody('NOT_FOUND', 'no such delivery'));
      const retried = await outbox.retry({ id: req.params.id, scope });
      await audit(ctx, req, {
        action: 'delivery.retry',
        target: req.params.id,
        outcome: retried ? 'ok' : 'failed',
      });
      if (!retried)
        return reply
          .code(409)
          .send(
            errorBody(
              'NOT_RETRYABLE',
              'the delivery is not failed or dead (or its notification has another open delivery to that sink)',
            ),
          );
      return { retried };
    },
  );

  app.post<{ Body: { sink?: string; kind?: 'event' | 'alert' } }>(
    '/api/deliveries/retry-dead',
    {
      config: { minRole: 'analyst' },
      schema: {
        summary: 'Retry every dead delivery (of one sink, of one kind, if given)',
        tags: ['deliveries'],
        body: Type.Object(
          { sink: Type.Optional(SinkName), kind: Type.Optional(MessageKind) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ retried: Type.Integer() }), 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const sink = req.body?.sink;
      const kind = req.body?.kind;
      if (sink !== undefined && !visible(req, sink)) return reply.code(404).send(NO_SUCH_SINK);
      const retried = await outbox.retry({
        scope: req.operator!.scope,
        dead: true,
        ...(sink ? { sink } : {}),
        ...(kind ? { kind } : {}),
      });
      await audit(ctx, req, {
        action: 'delivery.retry_dead',
        target: sink ?? (kind === 'alert' ? '(cardholder alerts)' : '(all sinks)'),
        outcome: 'ok',
        detail: { retried, ...(kind ? { kind } : {}) },
      });
      return { retried };
    },
  );

  app.get<{ Querystring: { issuer?: string } }>(
    '/api/sinks',
    {
      schema: {
        summary: 'Configured sinks with their state and queue counts',
        description:
          "With issuer: that issuer's sinks and the shared ones, counted over its deliveries.",
        tags: ['sinks'],
        querystring: Type.Object({ issuer: IssuerParam }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(SinkItem) }), 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const scope = requestScope(req, req.query.issuer);
      if (!scope) return reply.code(404).send(errorBody('NOT_FOUND', 'no such issuer'));
      const sinks = sinksOf(ctx.config.sinks, scope);
      return {
        items: (await sinkOverview(outbox, sinks, scope, { now: ctx.now() })).map(presentSink),
      };
    },
  );

  const NameParams = Type.Object({ name: SinkName });
  app.post<{ Params: { name: string }; Body: { since: string } }>(
    '/api/sinks/:name/replay',
    {
      config: { minRole: 'analyst' },
      schema: {
        summary:
          'Queue again, for one sink, every accepted notification received since a time (same event ids)',
        tags: ['sinks'],
        params: NameParams,
        body: Type.Object(
          { since: Type.String({ format: 'date-time' }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ queued: Type.Integer() }), 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const sink = visible(req, req.params.name);
      if (!sink) return reply.code(404).send(NO_SUCH_SINK);
      // An issuer's sink gets that issuer's events only; a shared one, those the operator sees.
      const scope = narrowScope(req.operator!.scope, sink.issuer)!;
      const queued = await outbox.replay(sink.name, Date.parse(req.body.since), scope);
      await audit(ctx, req, {
        action: 'sink.replay',
        target: req.params.name,
        outcome: 'ok',
        detail: { since: req.body.since, queued },
      });
      return { queued };
    },
  );

  for (const verb of ['disable', 'enable'] as const) {
    app.post<{ Params: { name: string }; Body: { reason?: string } }>(
      `/api/sinks/:name/${verb}`,
      {
        config: { minRole: 'admin' },
        schema: {
          summary:
            verb === 'disable'
              ? 'Stop delivering to a sink (deliveries wait, nothing is lost)'
              : 'Resume delivering to a sink',
          tags: ['sinks'],
          params: NameParams,
          ...(verb === 'disable'
            ? {
                body: Type.Object(
                  { reason: Type.Optional(Type.String({ maxLength: 200 })) },
                  { additionalProperties: false },
                ),
              }
            : {}),
          response: {
            200: Type.Object({ name: Type.String(), disabled: Type.Boolean() }),
            403: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (req, reply) => {
        const sink = visible(req, req.params.name);
        if (!sink) return reply.code(404).send(NO_SUCH_SINK);
        // A sink every issuer's events go to is switched only by an operator of every issuer.
        if (sink.issuer === undefined && !('all' in req.operator!.scope))
          return reply
            .code(403)
            .send(
              errorBody(
                'SHARED_SINK',
                "a sink of every issuer's events is switched by an operator of every issuer",
              ),
            );
        if (verb === 'disable')
          await outbox.disableSink(
            req.params.name,
            req.body?.reason || `disabled by ${req.operator!.name}`,
          );
        else await outbox.enableSink(req.params.name);
        await audit(ctx, req, {
          action: `sink.${verb}`,
          target: req.params.name,
          outcome: 'ok',
          ...(req.body?.reason ? { detail: { reason: req.body.reason } } : {}),
        });
        return { name: req.params.name, disabled: verb === 'disable' };
      },
    );
  }
}
