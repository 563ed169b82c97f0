import { generateApiToken, sha256 } from '../admin/credentials.js';
import { parseExpiresFlag, tokenExpiry } from '../admin/token-expiry.js';
import { presentApiToken } from '../presenters/api-token-presenter.js';
import { iso } from '../presenters/iso-time.js';
import { openStore } from '../storage/open-store.js';
import { uuidV7 } from '../util/uuid-v7.js';
import { loadConfigFrom, parse, printTable, UsageError } from './cli-support.js';

export const operatorTokensHelp = `ctp-notify operators token [--config FILE] --name NAME [--token-name TEXT] [--expires 90d|never] [--format json|text]
ctp-notify operators tokens [--config FILE] --name NAME [--format json|text]
ctp-notify operators revoke-token [--config FILE] --name NAME --id TOKEN_ID
  API tokens: "token" issues one (printed once; only its hash is stored) that expires after
  --expires days (default 90d, at most 365d; "never" only for a channel operator, whose token is
  a system's and does not expire by default). "tokens" lists an operator's tokens with their
  expiry, last use and revocation; "revoke-token" stops one at once.`;

/** `operators token|tokens|revoke-token`. */
export async function operatorTokensCommand(sub: string, argv: string[]): Promise<number> {
  const f = parse(argv, {
    config: { type: 'string' },
    name: { type: 'string' },
    'token-name': { type: 'string' },
    expires: { type: 'string' },
    id: { type: 'string' },
    format: { type: 'string', default: 'text' },
  });
  if (!f.name) throw new UsageError('--name is required');
  if (f.format !== 'json' && f.format !== 'text')
    throw new UsageError('--format must be json or text');
  if (sub === 'revoke-token' && !f.id) throw new UsageError('--id is required');
  const expires = parseExpiresFlag(f.expires);
  if (Number.isNaN(expires)) throw new UsageError('--expires must be like 90d, or never');
  const { config } = loadConfigFrom(f.config);
  const store = await openStore(config.storage);
  try {
    await store.migrate();
    const { operators, tokens, audit } = store.openAdminStores();
    const op = await operators.byName(f.name);
    if (!op) throw new UsageError(`no operator named "${f.name}"`);
    const actor = `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
    const now = Date.now();
    if (sub === 'tokens') {
      const items = (await tokens.list(op.id)).map((t) => presentApiToken(t, now));
      if (f.format === 'json') process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      else
        printTable(
          ['id', 'name', 'state', 'expires', 'last used'],
          items.map((t) => [t.id, t.name, t.state, t.expiresAt ?? 'never', t.lastUsedAt ?? '']),
          '(no tokens)',
        );
      return 0;
    }
    if (sub === 'revoke-token') {
      if (!(await tokens.revoke(op.id, f.id!, now)))
        throw new UsageError(`"${f.name}" has no live token ${f.id}`);
      await audit.append({
        actor,
        actorRole: null,
        action: 'token.revoke',
        target: op.name,
        outcome: 'ok',
        address: 'cli',
        detail: { tokenId: f.id! },
      });
      process.stdout.write(`${JSON.stringify({ id: f.id, revoked: true })}\n`);
      return 0;
    }
    if (op.source === 'oidc')
      throw new UsageError('an operator of the identity provider has no API token');
    const expiresAt = tokenExpiry(op.role, expires, now);
    if (typeof expiresAt === 'string') throw new UsageError(`--expires: ${expiresAt}`);
    const apiToken = generateApiToken();
    const id = uuidV7(now);
    const name = f['token-name'] ?? 'cli';
    await tokens.issue({
      id,
      operatorId: op.id,
      name,
      tokenHash: sha256(apiToken),
      createdAt: now,
      expiresAt,
    });
    await audit.append({
      actor,
      actorRole: null,
      action: 'token.issue',
      target: op.name,
      outcome: 'ok',
      address: 'cli',
      detail: { tokenId: id, name, expiresAt: iso(expiresAt) },
    });
    const issued = { id, name, expiresAt: iso(expiresAt), apiToken };
    if (f.format === 'json') process.stdout.write(`${JSON.stringify(issued)}\n`);
    else
      process.stdout.write(
        `API token "${name}" for "${op.name}" (expires ${issued.expiresAt ?? 'never'}). Shown once; store it now:\n  ${apiToken}\n`,
      );
    return 0;
  } finally {
    await store.close();
  }
}
