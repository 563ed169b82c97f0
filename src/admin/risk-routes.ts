import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, EvaluationReport } from '../api/api-schemas.js';
import { scopeAllows } from '../domain/issuer-scope.js';
import { presentEvaluation } from '../presenters/evaluation-presenter.js';
import { evaluateRisk } from '../risk/risk-evaluation.js';
import type { AdminContext } from './admin-context.js';
import { errorBody } from './auth.js';

const EvaluationQuery = Type.Object(
  {
    since: Type.Optional(
      Type.String({ format: 'date-time', description: 'Attempts received at or after' }),
    ),
  },
  { additionalProperties: false },
);

/** How the rules do against the labels (dispositions and cardholders' answers). */
export async function riskRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  app.get<{ Querystring: Static<typeof EvaluationQuery> }>(
    '/api/risk/evaluation',
    {
      schema: {
        summary:
          'Confusion matrix of assessed level against labels; per reason code, firings and precision',
        description:
          'The same figures as `ctp-notify risk evaluate`. Labels: confirmed_fraud and not_recognised are fraud, ' +
          'legitimate and recognised are not; a disposition outranks an answer.',
        tags: ['risk'],
        querystring: EvaluationQuery,
        response: { 200: EvaluationReport, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      // Risk assesses one issuer's notifications (several issuers run without it): the
      // evaluation is that issuer's, and with several, every issuer's at once.
      const only = ctx.config.issuers.length === 1 ? ctx.config.issuers[0]!.id : undefined;
      const scope = req.operator!.scope;
      if (only === undefined ? !('all' in scope) : !scopeAllows(scope, only))
        return reply.code(404).send(errorBody('NOT_FOUND', 'no evaluation for your issuers'));
      const since = req.query.since ? Date.parse(req.query.since) : undefined;
      return presentEvaluation(
        await evaluateRisk((s, limit, after) => ctx.cases.labelled(s, limit, after), since),
      );
    },
  );
}
