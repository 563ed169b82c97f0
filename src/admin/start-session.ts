import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Operator } from '../storage/operator-store.js';
import type { AdminContext } from './admin-context.js';
import { sessionCookieName } from './auth.js';
import { randomToken, sha256 } from './credentials.js';
import { sessionExpiry } from './session-expiry.js';

/**
 * Signs `op` in: a session (only the SHA-256 of its 256-bit token is stored) and the audit
 * entry. @returns the session cookie to set: HttpOnly, SameSite=Strict, Secure under TLS; its
 * Max-Age bounds the browser, the server's limits decide.
 */
export async function startSession(
  ctx: AdminContext,
  req: FastifyRequest,
  op: Operator,
  detail: Record<string, unknown> | null,
): Promise<string> {
  const tls = Boolean(ctx.settings.tls);
  const now = ctx.now();
  const token = randomToken();
  await ctx.operators.createSession({
    idHash: sha256(token),
    operatorId: op.id,
    csrfToken: randomToken(),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: sessionExpiry(ctx, op, now, now),
    address: req.ip,
  });
  await ctx.operators.recordLogin(op.id, now);
  await ctx.operators.deleteExpiredSessions(now);
  await ctx.audit.append({
    actor: op.name,
    actorRole: op.role,
    action: 'session.login',
    target: null,
    outcome: 'ok',
    address: req.ip,
    detail,
  });
  return `${sessionCookieName(tls)}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${ctx.settings.sessionMaxHours * 3600}${tls ? '; Secure' : ''}`;
}

/**
 * Signs `op` in and sends the browser to the console: 303 after a form's POST, 302 at the end
 * of single sign-on (a GET).
 */
export async function signInAndEnter(
  ctx: AdminContext,
  req: FastifyRequest,
  reply: FastifyReply,
  op: Operator,
  detail: Record<string, unknown> | null,
  status: 302 | 303 = 303,
) {
  const cookie = await startSession(ctx, req, op, detail);
  return reply.code(status).header('set-cookie', cookie).header('location', '/').send();
}
