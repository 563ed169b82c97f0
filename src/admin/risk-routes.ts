import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, EvaluationReport } from '../api/api-schemas.js';
import { presentEvaluation } from '../presenters/evaluation-presenter.js';
import { evaluateRisk } from '../risk/risk-evaluation.js';
import type { AdminContext } from './admin-context.js';

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
        response: { 200: EvaluationReport, 400: ErrorBody },
      },
    },
    async (req) => {
      const since = req.query.since ? Date.parse(req.query.since) : undefined;
      return presentEvaluation(
        await evaluateRisk((s, limit, after) => ctx.cases.labelled(s, limit, after), since),
      );
    },
  );
}
