import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  CaseDetail,
  CaseItem,
  CaseStatusSchema,
  DispositionSchema,
  ErrorBody,
  IdParams,
  Page,
} from '../api/api-schemas.js';
import { ISSUER_ID_PATTERN } from '../domain/issuer-ids.js';
import { scopeAllows } from '../domain/issuer-scope.js';
import { RISK_LEVELS } from '../domain/risk-codes.js';
import { presentCase, presentCaseDetail } from '../presenters/case-presenter.js';
import type { CaseOutcome, CaseRefusal } from '../storage/case-records.js';
import { literalUnion } from '../util/literal-union.js';
import type { AdminContext } from './admin-context.js';
import { audit, errorBody } from './auth.js';
import { requestScope } from './request-scope.js';

const CaseQuery = Type.Object(
  {
    status: Type.Optional(CaseStatusSchema),
    level: Type.Optional(literalUnion(RISK_LEVELS)),
    assignee: Type.Optional(Type.String({ maxLength: 64, description: 'Operator name' })),
    overdue: Type.Optional(
      Type.Boolean({ description: 'true: open past risk.cases.slaHours; false: the others' }),
    ),
    issuer: Type.Optional(
      Type.String({ pattern: ISSUER_ID_PATTERN, description: "One issuer's cases" }),
    ),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);
const AssignBody = Type.Object(
  {
    assignee: Type.Union(
      [Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' }), Type.Null()],
      {
        description: 'An analyst or admin; null unassigns (the case is open again)',
      },
    ),
  },
  { additionalProperties: false },
);
const NoteBody = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 4000 }) },
  { additionalProperties: false },
);
const DispositionBody = Type.Object(
  {
    disposition: DispositionSchema,
    note: Type.String({ minLength: 1, maxLength: 4000, description: 'What was found' }),
  },
  { additionalProperties: false },
);

const STATUS: Record<CaseRefusal, number> = { NOT_FOUND: 404, CASE_CLOSED: 409 };
const MESSAGE: Record<CaseRefusal, string> = {
  NOT_FOUND: 'no such case',
  CASE_CLOSED: 'the case is closed',
};

/**
 * The fraud case queue: viewers read, analysts assign, note and close. Every change, and every
 * view of a case, is in the audit log (never a note's text: only its length).
 */
export async function caseRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const sla = ctx.config.risk.cases.slaHours;
  const overdueAt = () => ctx.now() - sla * 3_600_000;

  app.get<{ Querystring: Static<typeof CaseQuery> }>(
    '/api/cases',
    {
      schema: {
        summary: 'Fraud cases: open ones first (overdue, then escalated, then oldest), then closed',
        tags: ['cases'],
        querystring: CaseQuery,
        response: { 200: Page(CaseItem, 'CasePage'), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const scope = requestScope(req, req.query.issuer);
      if (!scope) return reply.code(404).send(errorBody('NOT_FOUND', 'no such issuer'));
      const limit = req.query.limit ?? 100;
      const offset = Number(req.query.cursor ?? 0);
      const rows = await ctx.cases.list({
        scope,
        status: req.query.status,
        level: req.query.level,
        assignee: req.query.assignee,
        overdue: req.query.overdue,
        overdueAt: overdueAt(),
        limit: limit + 1,
        offset,
      });
      const now = ctx.now();
      return {
        items: rows.slice(0, limit).map((c) => presentCase(c, now, sla)),
        next: rows.length > limit ? String(offset + limit) : null,
      };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/cases/:id',
    {
      schema: {
        summary:
          'One case: its attempts with their reasons, alerts and answers, notes, disposition',
        tags: ['cases'],
        params: IdParams,
        response: { 200: CaseDetail, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const c = await ctx.cases.detail(req.params.id, req.operator!.scope);
      if (!c) return reply.code(404).send(errorBody('NOT_FOUND', 'no such case'));
      await audit(ctx, req, { action: 'case.view', target: c.id, outcome: 'ok', issuer: c.issuer });
      return presentCaseDetail(c, ctx.now(), sla);
    },
  );

  // The outcome of a change: audited either way, then the case or the refusal.
  const respond = async (
    req: FastifyRequest,
    reply: FastifyReply,
    action: string,
    out: CaseOutcome,
    detail: Record<string, unknown>,
  ) => {
    const target = (req.params as { id: string }).id;
    if (!out.ok) {
      await audit(ctx, req, { action, target, outcome: 'denied', detail: { code: out.code } });
      return reply.code(STATUS[out.code]).send(errorBody(out.code, MESSAGE[out.code]));
    }
    await audit(ctx, req, { action, target, outcome: 'ok', detail, issuer: out.case.issuer });
    return presentCase(out.case, ctx.now(), sla);
  };

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof AssignBody> }>(
    '/api/cases/:id/assign',
    {
      config: { minRole: 'analyst' },
      schema: {
        summary: 'Assign a case to an analyst (in review), or unassign it (open)',
        tags: ['cases'],
        params: IdParams,
        body: AssignBody,
        response: { 200: CaseItem, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const name = req.body.assignee;
      if (name !== null) {
        const op = await ctx.operators.byName(name);
        // An assignee must see the case: another issuer's operator is no assignee here, and
        // answers as a name that does not exist.
        const c = await ctx.cases.detail(req.params.id, req.operator!.scope);
        const sees =
          c === undefined || c.issuer === null || (op && scopeAllows(op.scope, c.issuer));
        if (
          !op ||
          !sees ||
          op.disabledAt !== null ||
          (op.role !== 'analyst' && op.role !== 'admin')
        ) {
          await audit(ctx, req, {
            action: 'case.assign',
            target: req.params.id,
            outcome: 'denied',
            detail: { code: 'ASSIGNEE_INVALID', assignee: name },
          });
          return reply
            .code(400)
            .send(
              errorBody('ASSIGNEE_INVALID', 'the assignee must be an enabled analyst or admin'),
            );
        }
      }
      const out = await ctx.cases.assign(
        req.params.id,
        req.operator!.scope,
        name,
        ctx.now(),
        req.operator!.name,
      );
      return respond(req, reply, 'case.assign', out, { assignee: name });
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof NoteBody> }>(
    '/api/cases/:id/notes',
    {
      config: { minRole: 'analyst' },
      schema: {
        summary: 'Append a note to a case (notes are never changed or removed)',
        tags: ['cases'],
        params: IdParams,
        body: NoteBody,
        response: { 200: CaseItem, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const out = await ctx.cases.addNote(
        req.params.id,
        req.operator!.scope,
        req.body.text,
        ctx.now(),
        req.operator!.name,
      );
      return respond(req, reply, 'case.note', out, { length: req.body.text.length });
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DispositionBody> }>(
    '/api/cases/:id/disposition',
    {
      config: { minRole: 'analyst' },
      schema: {
        summary: 'Close a case: confirmed_fraud, legitimate or inconclusive, with a note',
        description:
          "The disposition labels the case's attempts for `risk evaluate` and backtests (it outranks the cardholder's answer).",
        tags: ['cases'],
        params: IdParams,
        body: DispositionBody,
        response: { 200: CaseItem, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const out = await ctx.cases.close(
        req.params.id,
        req.operator!.scope,
        req.body.disposition,
        req.body.note,
        ctx.now(),
        req.operator!.name,
      );
      return respond(req, reply, 'case.disposition', out, { disposition: req.body.disposition });
    },
  );
}
