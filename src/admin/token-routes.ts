import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiTokenItem, ErrorBody } from '../api/api-schemas.js';
import { scopeCovers } from '../domain/issuer-scope.js';
import { presentApiToken } from '../presenters/api-token-presenter.js';
import { iso } from '../presenters/iso-time.js';
import { uuidV7 } from '../util/uuid-v7.js';
import type { AdminContext } from './admin-context.js';
import { audit, errorBody } from './auth.js';
import { generateApiToken, sha256 } from './credentials.js';
import { MAX_TOKEN_DAYS, tokenExpiry } from './token-expiry.js';

const NameParams = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' }),
});
const TokenParams = Type.Object({
  name: NameParams.properties.name,
  id: Type.String({ pattern: '^[0-9a-f-]{36}$' }),
});
const NewToken = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$',
      description: 'What it is for',
    }),
    expiresInDays: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_TOKEN_DAYS, description: 'Default 90' }),
    ),
    neverExpires: Type.Optional(
      Type.Boolean({ description: "A channel operator's token only: long-lived by choice" }),
    ),
  },
  { additionalProperties: false },
);

/** Operators' API tokens: listed, issued and revoked by admins, within their issuers. */
export async function tokenRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  /** The named operator when the admin's issuers cover theirs; else a 404 was sent. */
  const target = async (req: FastifyRequest, reply: FastifyReply) => {
    const op = await ctx.operators.byName((req.params as { name: string }).name);
    if (op && scopeCovers(req.operator!.scope, op.scope)) return op;
    void reply.code(404).send(errorBody('NOT_FOUND', 'no such operator'));
    return undefined;
  };

  app.get<{ Params: Static<typeof NameParams> }>(
    '/api/operators/:name/tokens',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: "An operator's API tokens: name, expiry, last use, revocation (never the token)",
        tags: ['operators'],
        params: NameParams,
        response: { 200: Type.Object({ items: Type.Array(ApiTokenItem) }), 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const op = await target(req, reply);
      if (!op) return reply;
      const now = ctx.now();
      return { items: (await ctx.tokens.list(op.id)).map((t) => presentApiToken(t, now)) };
    },
  );

  app.post<{ Params: Static<typeof NameParams>; Body: Static<typeof NewToken> }>(
    '/api/operators/:name/tokens',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: "Issue an API token (your own, or a channel system's); it is returned this once",
        tags: ['operators'],
        params: NameParams,
        body: NewToken,
        response: {
          201: Type.Object({
            id: Type.String(),
            name: Type.String(),
            expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
            apiToken: Type.String(),
          }),
          400: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const op = await target(req, reply);
      if (!op) return reply;
      // A person's token is theirs to ask for, from their own signed-in session (after their
      // second factor); an admin issues tokens only for systems (`channel`). Anything else
      // would let an admin act, unaudited as themselves, as another operator.
      if (op.id !== req.operator!.id && op.role !== 'channel')
        return reply
          .code(403)
          .send(
            errorBody(
              'NOT_YOURS',
              "another operator's token is theirs to issue; admins issue tokens for channel systems",
            ),
          );
      // The identity provider decides who an SSO operator is; a token would outlive its say.
      if (op.source === 'oidc')
        return reply
          .code(409)
          .send(errorBody('SSO_OPERATOR', 'an operator of the identity provider has no API token'));
      const now = ctx.now();
      const expiresAt = tokenExpiry(
        op.role,
        req.body.neverExpires ? 'never' : req.body.expiresInDays,
        now,
      );
      if (typeof expiresAt === 'string')
        return reply.code(400).send(errorBody('EXPIRY_NOT_ALLOWED', expiresAt));
      const apiToken = generateApiToken();
      const id = uuidV7(now);
      await ctx.tokens.issue({
        id,
        operatorId: op.id,
        name: req.body.name,
        tokenHash: sha256(apiToken),
        createdAt: now,
        expiresAt,
      });
      await audit(ctx, req, {
        action: 'token.issue',
        target: op.name,
        outcome: 'ok',
        detail: { tokenId: id, name: req.body.name, expiresAt: iso(expiresAt) },
      });
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ id, name: req.body.name, expiresAt: iso(expiresAt), apiToken });
    },
  );

  app.post<{ Params: Static<typeof TokenParams> }>(
    '/api/operators/:name/tokens/:id/revoke',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Revoke an API token: it stops working at once',
        tags: ['operators'],
        params: TokenParams,
        response: {
          200: Type.Object({ id: Type.String(), revoked: Type.Boolean() }),
          404: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const op = await target(req, reply);
      if (!op) return reply;
      const ok = await ctx.tokens.revoke(op.id, req.params.id, ctx.now());
      if (!ok) return reply.code(404).send(errorBody('NOT_FOUND', 'no such live token'));
      await audit(ctx, req, {
        action: 'token.revoke',
        target: op.name,
        outcome: 'ok',
        detail: { tokenId: req.params.id },
      });
      return { id: req.params.id, revoked: true };
    },
  );
}
