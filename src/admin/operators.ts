import type { IssuerScope } from '../domain/issuer-scope.js';
import { ROLES, type Role } from '../domain/roles.js';
import type { OperatorStore } from '../storage/operator-store.js';
import { uuidV7 } from '../util/uuid-v7.js';
import { generateApiToken, generatePassword, hashPassword, sha256 } from './credentials.js';
import { tokenExpiry } from './token-expiry.js';

/** What is shown once when an operator is made; only hashes are stored. */
export interface IssuedCredentials {
  name: string;
  role: Role;
  scope: IssuerScope;
  password: string;
  apiToken: string;
}

export const OPERATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export class OperatorExistsError extends Error {
  constructor() {
    super('an operator with that name exists');
  }
}

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

/**
 * Creates an operator of the issuers in `scope` with a generated password and API token,
 * returned once; the token expires after 90 days (a `channel` operator's never does).
 * @throws OperatorExistsError when the name is taken.
 */
export async function addOperator(
  store: OperatorStore,
  name: string,
  role: Role,
  scope: IssuerScope,
  now = Date.now(),
): Promise<IssuedCredentials> {
  if (!OPERATOR_NAME.test(name))
    throw new TypeError('operator name: letters, digits, . _ @ - (at most 64)');
  const password = generatePassword();
  const apiToken = generateApiToken();
  const created = await store.create({
    id: uuidV7(now),
    name,
    role,
    scope,
    passwordHash: await hashPassword(password),
    tokenHash: sha256(apiToken),
    tokenExpiresAt: tokenExpiry(role, undefined, now) as number | null,
    createdAt: now,
  });
  if (!created) throw new OperatorExistsError();
  return { name, role, scope, password, apiToken };
}
