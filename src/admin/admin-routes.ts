import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AuditItem, ErrorBody, KeyItem, Page, Stats } from '../api/api-schemas.js';
import { ISSUER_ID_PATTERN } from '../domain/issuer-ids.js';
import { scopeAllows } from '../domain/issuer-scope.js';
import { iso } from '../presenters/iso-time.js';
import { sinkOverview } from '../presenters/sink-presenter.js';
import type { AdminContext } from './admin-context.js';
import { errorBody } from './auth.js';
import { liveKeyInventory, withStatus } from './key-inventory.js';
import { requestScope } from './request-scope.js';
import { sinksOf } from './sinks-of.js';

const IssuerQuery = Type.Optional(
  Type.String({ pattern: ISSUER_ID_PATTERN, description: "One issuer's" }),
);

const AuditQuery = Type.Object(
  {
    issuer: IssuerQuery,
    actor: Type.Optional(Type.String({ maxLength: 64 })),
    action: Type.Optional(
      Type.String({ maxLength: 64, description: 'Prefix, e.g. `notification.`' }),
    ),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

const StatsQuery = Type.Object(
  {
    hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 14, default: 24 })),
    issuer: IssuerQuery,
  },
  { additionalProperties: false },
);

/** Keys, audit log and the overview's figures. */
export async function adminRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const inventory = liveKeyInventory(ctx.config, ctx.secrets);
  const keys = () => withStatus(inventory(), ctx.now(), ctx.settings.keyExpiryWarningDays);

  app.get<{ Querystring: { issuer?: string } }>(
    '/api/keys',
    {
      schema: {
        summary: 'Every configured key and certificate with its expiry',
        description:
          'status is "expiring" within admin.keyExpiryWarningDays (default 30) of notAfter. ' +
          "With issuer: that issuer's keys and the deployment's.",
        tags: ['keys'],
        querystring: Type.Object({ issuer: IssuerQuery }, { additionalProperties: false }),
        response: {
          200: Type.Object({ warningDays: Type.Integer(), items: Type.Array(KeyItem) }),
          404: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      // The deployment's keys (issuer null: Visa's, TLS) are every operator's to watch.
      const scope = requestScope(req, req.query.issuer);
      if (!scope) return reply.code(404).send(errorBody('NOT_FOUND', 'no such issuer'));
      return {
        warningDays: ctx.settings.keyExpiryWarningDays,
        items: keys()
          .filter((k) => k.issuer === null || scopeAllows(scope, k.issuer))
          .map((k) => ({ ...k, notAfter: k.notAfter?.toISOString() ?? null })),
      };
    },
  );

  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/api/audit',
    {
      // PCI DSS v4 10.3.1: the audit trail (operators' addresses among it) on a need-to-know
      // basis: administrators only.
      config: { minRole: 'admin' },
      schema: {
        summary: 'The audit log, newest first',
        tags: ['audit'],
        querystring: AuditQuery,
        response: { 200: Page(AuditItem, 'AuditPage'), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const scope = requestScope(req, req.query.issuer);
      if (!scope) return reply.code(404).send(errorBody('NOT_FOUND', 'no such issuer'));
      const limit = req.query.limit ?? 100;
      const rows = await ctx.audit.list({
        scope,
        limit: limit + 1,
        beforeSeq: req.query.cursor === undefined ? undefined : Number(req.query.cursor),
        actor: req.query.actor,
        action: req.query.action,
      });
      const items = rows.slice(0, limit);
      return {
        items: items.map((e) => ({ ...e, at: iso(e.at) })),
        next: rows.length > limit ? String(items[items.length - 1]!.seq) : null,
      };
    },
  );

  app.get<{ Querystring: Static<typeof StatsQuery> }>(
    '/api/stats',
    {
      schema: {
        summary: "The overview's figures: arrivals per hour, totals, quarantine queue",
        tags: ['overview'],
        querystring: StatsQuery,
        response: { 200: Stats, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const scope = requestScope(req, req.query.issuer);
      if (!scope) return reply.code(404).send(errorBody('NOT_FOUND', 'no such issuer'));
      const hours = req.query.hours ?? 24;
      const now = ctx.now();
      const firstHour = Math.floor(now / 3_600_000) * 3_600_000 - (hours - 1) * 3_600_000;
      const counts = await ctx.notifications.perHour(firstHour, scope);
      const buckets = Array.from({ length: hours }, (_, i) => ({
        t: firstHour + i * 3_600_000,
        accepted: 0,
        quarantined: 0,
      }));
      for (const c of counts) {
        const b = buckets[Math.round((c.hour - firstHour) / 3_600_000)];
        if (b) b[c.status] += c.count;
      }
      const accepted = buckets.reduce((s, b) => s + b.accepted, 0);
      const quarantined = buckets.reduce((s, b) => s + b.quarantined, 0);
      const k = keys().filter((x) => x.issuer === null || scopeAllows(scope, x.issuer));
      const open = await sinkOverview(ctx.outbox, sinksOf(ctx.config.sinks, scope), scope);
      const sum = (f: (c: (typeof open)[number]['counts']) => number) =>
        open.reduce((n, o) => n + f(o.counts), 0);
      return {
        since: iso(firstHour),
        hours: buckets.map((b) => ({
          hour: iso(b.t),
          accepted: b.accepted,
          quarantined: b.quarantined,
        })),
        totals: { received: accepted + quarantined, accepted, quarantined },
        quarantineQueue: await ctx.notifications.quarantineByReason(scope),
        keys: {
          expiring: k.filter((x) => x.status === 'expiring').length,
          expired: k.filter((x) => x.status === 'expired').length,
        },
        risk: await ctx.notifications.riskMix(firstHour, scope),
        deliveries: {
          pending: sum((c) => c.pending),
          retrying: sum((c) => c.failed),
          dead: sum((c) => c.dead),
        },
      };
    },
  );
}
