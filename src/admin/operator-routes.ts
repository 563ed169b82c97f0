import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, OperatorItem } from '../api/api-schemas.js';
import { ISSUER_ID_PATTERN } from '../domain/issuer-ids.js';
import { ALL_ISSUERS, type IssuerScope, onlyIssuers, scopeCovers } from '../domain/issuer-scope.js';
import { ROLES } from '../domain/roles.js';
import { presentOperator, presentScope } from '../presenters/operator-presenter.js';
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
    issuers: Type.Optional(
      Type.Array(Type.String({ pattern: ISSUER_ID_PATTERN }), {
        minItems: 1,
        maxItems: 1000,
        description: 'The issuers whose resources the operator sees',
      }),
    ),
    allIssuers: Type.Optional(
      Type.Boolean({ description: "Every issuer's (processor staff); only by such an admin" }),
    ),
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
    // An admin sees the operators whose issuers are all theirs (processor staff see everyone).
    async (req) => ({
      items: (await ctx.operators.list())
        .filter((o) => scopeCovers(req.operator!.scope, o.scope))
        .map(presentOperator),
    }),
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
            allIssuers: Type.Boolean(),
            issuers: Type.Array(Type.String()),
            password: Type.String(),
            apiToken: Type.String(),
          }),
          400: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const scope = newOperatorScope(ctx, req.operator!.scope, req.body);
      if (typeof scope === 'string')
        return scope === 'NOT_FOUND'
          ? reply.code(404).send(errorBody('NOT_FOUND', 'no such issuer'))
          : reply.code(400).send(errorBody(scope, SCOPE_MESSAGE[scope]));
      try {
        const issued = await addOperator(
          ctx.operators,
          req.body.name,
          req.body.role,
          scope,
          ctx.now(),
        );
        await audit(ctx, req, {
          action: 'operator.add',
          target: issued.name,
          outcome: 'ok',
          detail: { role: issued.role, ...presentScope(scope) },
        });
        const { scope: _, ...shown } = issued;
        return reply
          .code(201)
          .header('cache-control', 'no-store')
          .send({ ...shown, ...presentScope(scope) });
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
        const target = await ctx.operators.byName(req.params.name);
        if (!target || !scopeCovers(req.operator!.scope, target.scope))
          return reply.code(404).send(errorBody('NOT_FOUND', 'no such operator'));
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

type ScopeRefusal = 'NOT_FOUND' | 'ISSUERS_REQUIRED' | 'ISSUER_UNKNOWN';
const SCOPE_MESSAGE: Record<Exclude<ScopeRefusal, 'NOT_FOUND'>, string> = {
  ISSUERS_REQUIRED: 'with several issuers configured, give issuers or allIssuers',
  ISSUER_UNKNOWN: 'issuers must be configured issuers',
};

/**
 * The scope of an operator an admin adds: what the body asks for, within the admin's own scope
 * (an issuer beyond it is 404, as if it did not exist). Without `issuers` or `allIssuers`, the
 * admin's own scope when one issuer is configured; with several, one must be given.
 */
function newOperatorScope(
  ctx: AdminContext,
  own: IssuerScope,
  body: { issuers?: string[] | undefined; allIssuers?: boolean | undefined },
): IssuerScope | ScopeRefusal {
  if (body.allIssuers === true && body.issuers !== undefined) return 'ISSUERS_REQUIRED';
  const asked =
    body.allIssuers === true
      ? ALL_ISSUERS
      : body.issuers !== undefined
        ? onlyIssuers(body.issuers)
        : undefined;
  if (asked === undefined) return ctx.config.issuers.length === 1 ? own : 'ISSUERS_REQUIRED';
  if (!scopeCovers(own, asked)) return 'NOT_FOUND';
  const configured = new Set(ctx.config.issuers.map((i) => i.id));
  if (!('all' in asked) && !asked.issuers.every((i) => configured.has(i))) return 'ISSUER_UNKNOWN';
  return asked;
}
