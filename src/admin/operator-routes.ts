import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, OperatorItem } from '../api/api-schemas.js';
import { ROLES } from '../domain/roles.js';
import { presentOperator } from '../presenters/operator-presenter.js';
import { literalUnion } from '../util/literal-union.js';
import type { AdminContext } from './admin-context.js';
import { audit, errorBody } from './auth.js';
import { addOperator, OperatorExistsError } from './operators.js';

const NameParams = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' }),
});
const NewOperator = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' }),
    role: literalUnion(ROLES),
  },
  { additionalProperties: false },
);

/** Operator management: admins only, apart from reading the list. */
export async function operatorRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  app.get(
    '/api/operators',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Operators and their roles',
        tags: ['operators'],
        response: { 200: Type.Object({ items: Type.Array(OperatorItem) }) },
      },
    },
    async () => ({ items: (await ctx.operators.list()).map(presentOperator) }),
  );

  app.post<{ Body: Static<typeof NewOperator> }>(
    '/api/operators',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Add an operator; the generated password and API token are returned this once',
        tags: ['operators'],
        body: NewOperator,
        response: {
          201: Type.Object({
            name: Type.String(),
            role: Type.String(),
            password: Type.String(),
            apiToken: Type.String(),
          }),
          409: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      try {
        const issued = await addOperator(ctx.operators, req.body.name, req.body.role, ctx.now());
        await audit(ctx, req, {
          action: 'operator.add',
          target: issued.name,
          outcome: 'ok',
          detail: { role: issued.role },
        });
        return reply.code(201).header('cache-control', 'no-store').send(issued);
      } catch (e) {
        if (!(e instanceof OperatorExistsError)) throw e;
        return reply
          .code(409)
          .send(errorBody('OPERATOR_EXISTS', 'an operator with that name exists'));
      }
    },
  );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post<{ Params: Static<typeof NameParams> }>(
      `/api/operators/:name/${verb}`,
      {
        config: { minRole: 'admin' },
        schema: {
          summary: disabled
            ? 'Disable an operator (signs them out; their API token stops working)'
            : 'Enable a disabled operator',
          tags: ['operators'],
          params: NameParams,
          response: { 200: OperatorItem, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        if (disabled && req.params.name === req.operator!.name)
          return reply.code(409).send(errorBody('SELF', 'you cannot disable yourself'));
        const ok = await ctx.operators.setDisabled(req.params.name, disabled ? ctx.now() : null);
        if (!ok) return reply.code(404).send(errorBody('NOT_FOUND', 'no such operator'));
        await audit(ctx, req, {
          action: `operator.${verb}`,
          target: req.params.name,
          outcome: 'ok',
        });
        const op = await ctx.operators.byName(req.params.name);
        return presentOperator(op!);
      },
    );
  }
}
