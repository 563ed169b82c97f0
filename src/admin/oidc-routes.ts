import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../util/constant-time.js';
import { uuidV7 } from '../util/uuid-v7.js';
import type { AdminContext } from './admin-context.js';
import { readCookie } from './auth.js';
import { generateApiToken, randomToken, sha256 } from './credentials.js';
import { loginPage } from './login-page.js';
import { groupsOf, mapGroups, showsMfa } from './oidc-groups.js';
import { OPERATOR_NAME } from './operators.js';
import { signInAndEnter } from './start-session.js';

/** How long a sign-in may take at the provider. */
const SIGN_IN_MS = 10 * 60_000;

/** Why a sign-in through the provider was refused: audited, and told to the user in words. */
const REFUSED = {
  state_mismatch: [400, 'This sign-in did not start here, or took too long. Start again.'],
  sign_in_unknown: [400, 'This sign-in was already used, or took too long. Start again.'],
  provider_error: [400, 'The identity provider did not sign you in.'],
  token_refused: [400, 'The identity provider’s answer could not be verified. Start again.'],
  mfa_required: [
    403,
    'Your sign-in did not use a second factor. Sign in again with multi-factor authentication.',
  ],
  no_group: [403, 'You are not in a group with access to this console. Ask your administrator.'],
  name_taken: [409, 'Your user name belongs to a local account here. Ask your administrator.'],
  disabled: [403, 'Your access to this console is disabled. Ask your administrator.'],
} as const;
type Refusal = keyof typeof REFUSED;

/**
 * Single sign-on with the bank's identity provider (OpenID Connect authorization code flow with
 * PKCE): `GET /auth/login` starts it, `GET /auth/callback` ends it with a console session. Both
 * are public routes; every outcome is in the audit log.
 */
export async function oidcRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const oidc = ctx.oidc;
  const settings = ctx.settings.oidc;
  if (!oidc || !settings) return;
  const tls = Boolean(ctx.settings.tls);
  // SameSite=Lax: the provider sends the browser back with a cross-site top-level GET, which a
  // Strict cookie would not accompany. It binds the callback to the browser that started;
  // `__Host-` keeps a sibling subdomain from planting one (RFC 6265bis §4.1.3.2).
  const stateCookie = tls ? '__Host-ctp_oidc_state' : 'ctp_oidc_state';
  const setState = (value: string, maxAge: number) =>
    `${stateCookie}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${tls ? '; Secure' : ''}`;

  const refuse = async (
    req: FastifyRequest,
    reply: FastifyReply,
    reason: Refusal,
    actor: { name: string; role: string | null } | null,
    detail: Record<string, unknown> = {},
  ) => {
    await ctx.audit.append({
      actor: actor?.name ?? '(single sign-on)',
      actorRole: actor?.role ?? null,
      action: 'session.login',
      target: null,
      outcome: reason === 'sign_in_unknown' || reason === 'state_mismatch' ? 'denied' : 'failed',
      address: req.ip,
      detail: { via: 'oidc', reason, ...detail },
    });
    const [status, message] = REFUSED[reason];
    return reply
      .code(status)
      .header('set-cookie', setState('', 0))
      .type('text/html; charset=utf-8')
      .send(loginPage({ message, sso: true }));
  };

  app.get('/auth/login', { config: { public: true } }, async (req, reply) => {
    let start: Awaited<ReturnType<typeof oidc.start>>;
    try {
      start = await oidc.start();
    } catch (e) {
      req.log.warn(
        { code: (e as { code?: string }).code ?? null },
        'identity provider unreachable',
      );
      return reply
        .code(503)
        .type('text/html; charset=utf-8')
        .send(loginPage({ message: 'The identity provider cannot be reached now.', sso: true }));
    }
    await ctx.operators.saveLogin(sha256(start.state), start.codeVerifier, start.nonce, ctx.now());
    return reply
      .code(302)
      .header('set-cookie', setState(start.state, SIGN_IN_MS / 1000))
      .header('location', start.url.href)
      .send();
  });

  app.get<{ Querystring: Record<string, string> }>(
    '/auth/callback',
    { config: { public: true } },
    async (req, reply) => {
      const state = req.query.state;
      if (typeof state !== 'string' || !constantTimeEqual(readCookie(req, stateCookie), state))
        return refuse(req, reply, 'state_mismatch', null);
      const pending = await ctx.operators.takeLogin(sha256(state), ctx.now() - SIGN_IN_MS);
      if (!pending) return refuse(req, reply, 'sign_in_unknown', null);
      if (typeof req.query.error === 'string')
        return refuse(req, reply, 'provider_error', null, { error: req.query.error.slice(0, 64) });
      let claims: Record<string, unknown>;
      try {
        const query = req.url.slice(req.url.indexOf('?'));
        claims = await oidc.finish(query, { state, ...pending });
      } catch (e) {
        // The code and the tokens stay out of the log and the audit entry; the error's code says why.
        return refuse(req, reply, 'token_refused', null, {
          code: String((e as { code?: unknown }).code ?? (e as Error).name).slice(0, 64),
        });
      }
      const subject = `${String(claims.iss)}|${String(claims.sub)}`;
      const known = await ctx.operators.bySubject(subject);
      const who = known ? { name: known.name, role: known.role } : null;
      if (settings.requireMfa && !showsMfa(claims, settings.mfaAcrValues))
        return refuse(req, reply, 'mfa_required', who);
      const granted = mapGroups(groupsOf(claims, settings.groupsClaim), settings.groups);
      if (!granted) {
        // Out of every group: no way in, and no session of theirs stays.
        if (known) await ctx.operators.endSessions(known.id);
        return refuse(req, reply, 'no_group', who);
      }
      const now = ctx.now();
      const ok = await ctx.operators.upsertFromProvider({
        subject,
        name: operatorName(claims, subject),
        role: granted.role,
        scope: granted.scope,
        newId: uuidV7(now),
        // Neither can be used: this operator has no password and no API token here.
        passwordHash: `oidc$${randomToken()}`,
        tokenHash: sha256(generateApiToken()),
        at: now,
      });
      if (!ok) return refuse(req, reply, 'name_taken', null);
      const op = (await ctx.operators.bySubject(subject))!;
      if (
        !known ||
        known.role !== op.role ||
        JSON.stringify(known.scope) !== JSON.stringify(op.scope)
      )
        await ctx.audit.append({
          actor: '(identity provider)',
          actorRole: null,
          action: known ? 'operator.changed_by_provider' : 'operator.provisioned',
          target: op.name,
          outcome: 'ok',
          address: req.ip,
          detail: {
            role: op.role,
            issuers: 'all' in op.scope ? '*' : op.scope.issuers,
            ...(known ? { previousRole: known.role } : {}),
          },
        });
      if (op.disabledAt !== null)
        return refuse(req, reply, 'disabled', { name: op.name, role: op.role });
      void reply.header('set-cookie', setState('', 0));
      return signInAndEnter(ctx, req, reply, op, { via: 'oidc' }, 302);
    },
  );
}

/**
 * The operator's name from the ID token: `preferred_username`, else `email`, when it is a valid
 * operator name; else one derived from the subject.
 */
function operatorName(claims: Record<string, unknown>, subject: string): string {
  for (const c of [claims.preferred_username, claims.email])
    if (typeof c === 'string' && OPERATOR_NAME.test(c)) return c;
  return `sso-${sha256(subject).slice(0, 16)}`;
}
