import type { FastifyInstance } from 'fastify';
import { scopeAllows } from '../domain/issuer-scope.js';
import { presentScope } from '../presenters/operator-presenter.js';
import { constantTimeEqual } from '../util/constant-time.js';
import type { AdminContext } from './admin-context.js';
import { audit, errorBody, readCookie, sameOrigin, sessionCookieName } from './auth.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './credentials.js';
import { loginPage } from './login-page.js';
import { askForSecondFactor } from './mfa-routes.js';
import { signInAndEnter } from './start-session.js';

/**
 * Sign-in (an HTML form POSTing `username` and `password`), sign-out and `GET /api/me`.
 * The session cookie is HttpOnly and SameSite=Strict, Secure under TLS; its value is a random
 * 256-bit token of which only the SHA-256 is stored.
 */
export async function sessionRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const tls = Boolean(ctx.settings.tls);
  const cookieName = sessionCookieName(tls);
  const cookie = (value: string, maxAgeSeconds: number) =>
    `${cookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${tls ? '; Secure' : ''}`;

  const sso = ctx.settings.oidc !== undefined;
  app.get('/login', { config: { public: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(loginPage({ sso })),
  );

  app.post<{ Body: { username?: unknown; password?: unknown } }>(
    '/login',
    { config: { public: true } },
    async (req, reply) => {
      const page = (status: number, message: string, username?: string) =>
        reply
          .code(status)
          .type('text/html; charset=utf-8')
          .send(loginPage({ message, username, sso }));
      const username =
        typeof req.body?.username === 'string' ? req.body.username.trim().slice(0, 64) : '';
      const password =
        typeof req.body?.password === 'string' ? req.body.password.slice(0, 256) : '';
      // Login CSRF: a cross-site form must not sign the victim in to the attacker's account.
      if (!sameOrigin(req, tls))
        return page(403, 'This sign-in request did not come from this console.');
      // Counted before the password is checked, so parallel guesses cannot outrun the lock-out.
      const attempt = ctx.limiter.attempt(username, req.ip);
      if (!attempt.allowed) {
        const wait = attempt.retryAfterSeconds;
        await ctx.audit.append({
          actor: username || '(blank)',
          actorRole: null,
          action: 'session.login',
          target: null,
          outcome: 'denied',
          address: req.ip,
          detail: { reason: 'rate_limited' },
        });
        void reply.header('retry-after', String(wait));
        return page(
          429,
          `Too many failed sign-ins. Try again in ${Math.ceil(wait / 60)} minute(s).`,
          username,
        );
      }
      const found = username ? await ctx.operators.byName(username) : undefined;
      // An operator of the identity provider signs in there, never with a password here.
      const op = found?.source === 'local' ? found : undefined;
      // Unknown names cost a full scrypt too, so response time does not reveal which names exist.
      // A channel operator is a system with an API token: it never signs in to the console.
      const ok =
        (await verifyPassword(password, op?.passwordHash ?? DUMMY_PASSWORD_HASH)) &&
        op !== undefined &&
        op.disabledAt === null &&
        op.role !== 'channel';
      if (!ok || !op) {
        await ctx.audit.append({
          actor: op ? op.name : '(unknown user)',
          actorRole: op?.role ?? null,
          action: 'session.login',
          target: null,
          outcome: 'failed',
          address: req.ip,
          detail: {
            reason: op?.disabledAt
              ? 'disabled'
              : op?.role === 'channel'
                ? 'channel_token_only'
                : 'bad_credentials',
          },
        });
        return page(401, 'Wrong user name or password.', username);
      }
      // The password is right. With a second factor to come, the attempt stays counted until the
      // code is right too, so re-entering the password does not buy more guesses at the code.
      if (ctx.settings.localMfa === 'required' || op.mfaEnrolled)
        return askForSecondFactor(ctx, reply, op);
      attempt.succeeded();
      return signInAndEnter(ctx, req, reply, op, null);
    },
  );

  app.post('/logout', { config: { public: true } }, async (req, reply) => {
    const s = req.session;
    const csrf = req.headers['x-csrf-token'] ?? (req.body as { csrf?: string } | undefined)?.csrf;
    if (s && sameOrigin(req, tls) && constantTimeEqual(csrf, s.csrfToken)) {
      await ctx.operators.deleteSession(s.idHash);
      await audit(ctx, req, { action: 'session.logout', target: null, outcome: 'ok' });
      return reply
        .code(303)
        .header('set-cookie', cookie('', 0))
        .header('location', '/login')
        .send();
    }
    if (readCookie(req, cookieName) && s)
      return reply.code(403).send(errorBody('CSRF_FAILED', 'missing or wrong CSRF token'));
    // No session of this request's to end: nothing is cleared, so a cross-site form (which
    // SameSite=Strict sends without the cookie) cannot sign the operator out.
    return reply.code(303).header('location', '/login').send();
  });

  app.get(
    '/api/me',
    {
      schema: {
        summary: 'The signed-in operator, and the CSRF token for the console to send on writes',
        tags: ['session'],
      },
    },
    async (req, reply) => {
      const op = req.operator!;
      return reply.header('cache-control', 'no-store').send({
        name: op.name,
        role: op.role,
        source: op.source,
        ...presentScope(op.scope),
        // The issuers the console may switch between: the configured ones the operator sees.
        issuerChoices: ctx.config.issuers
          .filter((i) => scopeAllows(op.scope, i.id))
          .map((i) => ({ id: i.id, name: i.name })),
        csrfToken: req.session?.csrfToken ?? null,
        sessionExpiresAt: req.session ? new Date(req.session.expiresAt).toISOString() : null,
      });
    },
  );
}
