import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../domain/roles.js';
import type { AuditEntry } from '../storage/audit-log.js';
import type { Operator, Session } from '../storage/operator-store.js';
import { constantTimeEqual } from '../util/constant-time.js';
import type { AdminContext } from './admin-context.js';
import { isCanonicalPath } from './canonical-path.js';
import { sha256 } from './credentials.js';
import { sessionExpiry } from './session-expiry.js';

declare module 'fastify' {
  interface FastifyRequest {
    operator: Operator | null;
    session: Session | null;
  }
  interface FastifyContextConfig {
    /**
     * Least role allowed; absent means any signed-in operator but `channel`. Every route needs
     * one unless it is marked `public`.
     */
    minRole?: Role;
    /** Only `channel` tokens may call it (the cardholder's answer), and they nothing else. */
    channelOnly?: boolean;
    /**
     * Served without a signed-in operator; the handler decides what, if anything, it shows.
     * Default false: deny by default.
     */
    public?: boolean;
  }
}

// `channel` is outside the ranking: it is allowed only what is marked channelOnly.
const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2, channel: -1 };

export function roleAllows(role: Role, min: Role): boolean {
  return role !== 'channel' && min !== 'channel' && RANK[role] >= RANK[min];
}

/**
 * Cookie name: with TLS the `__Host-` prefix pins it to this origin, Secure, Path=/ (RFC 6265bis
 * §4.1.3.2).
 */
export function sessionCookieName(tls: boolean): string {
  return tls ? '__Host-ctp_admin_session' : 'ctp_admin_session';
}

/**
 * The named cookie's value, or undefined when absent, malformed (a bad `%` escape) or sent more
 * than once (RFC 6265 §5.2 leaves decoding to the server).
 */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  let value: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      // Twice is none: a cookie planted by another site of the host (another port, a longer
      // Path) would otherwise come first and win.
      if (value !== undefined) return undefined;
      try {
        value = decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return value;
}

/**
 * Same-origin check for state-changing requests (OWASP CSRF cheat sheet: verifying origin with
 * standard headers).
 */
export function sameOrigin(req: FastifyRequest, tls: boolean): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // non-browser clients; browsers send Origin on POST
  return origin === `${tls ? 'https' : 'http'}://${req.headers.host ?? ''}`;
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Appends to the audit log on behalf of the request's operator. */
export function audit(
  ctx: AdminContext,
  req: FastifyRequest,
  e: Pick<AuditEntry, 'action' | 'target' | 'outcome'> & {
    detail?: AuditEntry['detail'];
    /** The resource's issuer; by default the operator's, when they have exactly one. */
    issuer?: string | null;
  },
) {
  const scope = req.operator?.scope;
  const soleIssuer =
    scope && !('all' in scope) && scope.issuers.length === 1 ? scope.issuers[0] : null;
  return ctx.audit.append({
    actor: req.operator?.name ?? '(anonymous)',
    actorRole: req.operator?.role ?? null,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    address: req.ip,
    detail: e.detail ?? null,
    issuer: e.issuer !== undefined ? e.issuer : (soleIssuer ?? null),
  });
}

/**
 * Deny by default, decided on the matched route, never on the raw URL:
 * 1. a path not spelled canonically (`isCanonicalPath`) is 404 before anything else, so no second
 *    spelling reaches a handler;
 * 2. the operator is resolved: `Authorization: Bearer <apiToken>` (scripts), else the session
 *    cookie (console);
 * 3. every matched route needs an operator and its `minRole` (default viewer; `channel` only
 *    where `channelOnly`) unless its own options say `public`. Cookie-authenticated writes must
 *    carry the session's CSRF token in `x-csrf-token` and, when a browser sends one, a
 *    same-origin `Origin` (SameSite=Strict is the first line; these are the second).
 * Unmatched requests fall through to the 404 handler, which shows nothing.
 */
export function installAuth(app: FastifyInstance, ctx: AdminContext): void {
  const tls = Boolean(ctx.settings.tls);
  const cookieName = sessionCookieName(tls);
  app.decorateRequest('operator', null);
  app.decorateRequest('session', null);

  const allowedHosts = new Set(ctx.settings.allowedHosts.map((h) => h.toLowerCase()));
  const wrongHost = (reply: FastifyReply) =>
    deny(
      reply,
      421,
      'HOST_NOT_ALLOWED',
      'this listener is not reached by that name: list it in admin.allowedHosts',
    );
  app.addHook('onRequest', async (req, reply) => {
    if (!isCanonicalPath(req.url)) return deny(reply, 404, 'NOT_FOUND', 'no such route');
    const hostOk = hostAllowed(req.headers.host, allowedHosts);
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer ([A-Za-z0-9_-]{10,200})$/.exec(auth);
      req.operator = m ? ((await ctx.tokens.operatorOf(sha256(m[1]!), ctx.now())) ?? null) : null;
      // A valid API token is proof enough against DNS rebinding (a page cannot know one): a
      // script may name the listener as it likes. Anything less must use an allowed Host.
      if (!hostOk && req.operator === null) return wrongHost(reply);
      // PCI DSS 10.2.1.4: invalid access attempts are logged (the token itself never is).
      if (req.operator === null)
        await audit(ctx, req, {
          action: 'request.unauthenticated',
          target: req.is404 ? null : `${req.method} ${req.routeOptions.url ?? ''}`,
          outcome: 'denied',
          detail: { reason: m ? 'unknown_token' : 'malformed_authorization' },
        });
      return;
    }
    if (!hostOk) return wrongHost(reply);
    const token = readCookie(req, cookieName);
    if (!token) return;
    const now = ctx.now();
    const session = await ctx.operators.session(sha256(token), now);
    if (!session) return;
    const expiresAt = sessionExpiry(ctx, session.operator, session.createdAt, now);
    if (now - session.lastSeenAt > 30_000)
      await ctx.operators.touchSession(session.idHash, now, expiresAt);
    req.session = session;
    req.operator = session.operator;
  });

  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return;
    const cfg = req.routeOptions.config;
    if (cfg.public === true) return;
    if (req.operator === null)
      return deny(
        reply,
        401,
        'UNAUTHENTICATED',
        'sign in, or send Authorization: Bearer <apiToken>',
      );
    const writes = req.method !== 'GET' && req.method !== 'HEAD';
    if (writes && req.session !== null) {
      if (
        !sameOrigin(req, tls) ||
        !constantTimeEqual(req.headers['x-csrf-token'], req.session.csrfToken)
      ) {
        await audit(ctx, req, {
          action: 'request.csrf_rejected',
          target: req.routeOptions.url ?? null,
          outcome: 'denied',
        });
        return deny(
          reply,
          403,
          'CSRF_FAILED',
          'missing or wrong x-csrf-token, or cross-origin request',
        );
      }
    }
    const needs: Role = cfg.channelOnly ? 'channel' : (cfg.minRole ?? 'viewer');
    const allowed =
      needs === 'channel' ? req.operator.role === 'channel' : roleAllows(req.operator.role, needs);
    if (!allowed) {
      await audit(ctx, req, {
        action: 'request.forbidden',
        target: `${req.method} ${req.routeOptions.url ?? ''}`,
        outcome: 'denied',
        detail: { needs },
      });
      return deny(reply, 403, 'FORBIDDEN', `needs the ${needs} role`);
    }
  });
}

/**
 * The `Host` a request names is an IP address, `localhost` or a listed name. A page that rebinds
 * its own name to this listener's address (DNS rebinding) sends its own name, never one of
 * these; an absent Host (HTTP/1.0) comes from no browser.
 */
export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (host === undefined) return true;
  const name = (
    host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:[0-9]*$/, '')
  ).toLowerCase();
  return isIP(name) !== 0 || name === 'localhost' || allowed.has(name);
}

function deny(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).header('cache-control', 'no-store').send(errorBody(code, message));
}
