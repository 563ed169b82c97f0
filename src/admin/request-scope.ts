import type { FastifyRequest } from 'fastify';
import { type IssuerScope, narrowScope } from '../domain/issuer-scope.js';

/**
 * The issuers the request's operator may see, narrowed to `issuer` when the request names one
 * (`?issuer=`). Undefined when the operator may not see that issuer: the route answers as it
 * answers for a resource that does not exist (404, never 403, which would confirm it does).
 */
export function requestScope(req: FastifyRequest, issuer?: string): IssuerScope | undefined {
  const operator = req.operator;
  if (operator === null) return undefined;
  return narrowScope(operator.scope, issuer);
}
