import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { open, seal } from '../protect/data-protector.js';
import type { Operator } from '../storage/operator-store.js';
import type { AdminContext } from './admin-context.js';
import { readCookie, sameOrigin } from './auth.js';
import { randomToken, sha256 } from './credentials.js';
import { codePage, enrolPage, recoveryCodesPage } from './mfa-pages.js';
import { startSession } from './start-session.js';
import { enrolment, newTotpSecret, totpStep } from './totp.js';

/** Between the password and the code. */
const CHALLENGE_MS = 5 * 60_000;
const RECOVERY_CODES = 10;
/** `xxxx-xxxx-xxxx`, lower-case base32 without look-alikes: 60 bits each. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_CODE = /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/;

function recoveryCode(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}

/**
 * The second factor of local accounts (TOTP, RFC 6238): after a right password, `POST /login`
 * hands over to `GET /login/mfa` (enrolment with a QR code, or the code form) and
 * `POST /login/mfa` (the code, or a recovery code), which signs in. Wrong codes count against
 * the same lock-out as wrong passwords.
 */
export async function mfaRoutes(app: FastifyInstance, ctx: AdminContext): Promise<void> {
  const tls = Boolean(ctx.settings.tls);
  const cookieName = challengeCookieName(tls);
  const cookie = (value: string, maxAge: number) => challengeCookie(tls, value, maxAge);
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).type('text/html; charset=utf-8').send(body);
  const key = ctx.secrets.totpKey;
  const context = (op: Operator) => `totp:${op.id}`;

  /** The challenge of this browser and its operator, or undefined (start again). */
  const current = async (req: FastifyRequest) => {
    const token = readCookie(req, cookieName);
    if (!token) return undefined;
    const idHash = sha256(token);
    const challenge = await ctx.mfa.challenge(idHash, ctx.now() - CHALLENGE_MS);
    const op = challenge && (await ctx.operators.byId(challenge.operatorId));
    if (!challenge || !op || op.disabledAt !== null) return undefined;
    return { idHash, challenge, op };
  };

  /** The secret being enrolled: made at the first view of the page, kept with the challenge. */
  const pendingSecret = async (c: NonNullable<Awaited<ReturnType<typeof current>>>) => {
    if (c.challenge.pendingSecret)
      return open(key!, c.challenge.pendingSecret, context(c.op)).toString();
    const secret = newTotpSecret();
    await ctx.mfa.setPendingSecret(c.idHash, seal(key!, Buffer.from(secret), context(c.op)));
    return secret;
  };

  const enrolView = async (
    c: NonNullable<Awaited<ReturnType<typeof current>>>,
    message?: string,
  ) => {
    const secret = await pendingSecret(c);
    const { qrSvg } = await enrolment(secret, c.op.name);
    return enrolPage({ qrSvg, secret, ...(message ? { message } : {}) });
  };

  // Only a listener built without `config.admin` (the schema then demands the key) has none.
  const NO_KEY = 'A second factor is required, and this console has no admin.totpKey to keep one.';

  app.get('/login/mfa', { config: { public: true } }, async (req, reply) => {
    const c = await current(req);
    if (!c) return reply.code(303).header('location', '/login').send();
    if (!key) return html(reply, 503, codePage(NO_KEY));
    if (c.op.mfaEnrolled) return html(reply, 200, codePage());
    return html(reply, 200, await enrolView(c));
  });

  app.post<{ Body: { code?: unknown } }>(
    '/login/mfa',
    { config: { public: true } },
    async (req, reply) => {
      if (!sameOrigin(req, tls))
        return html(reply, 403, codePage('This request did not come from this console.'));
      const c = await current(req);
      if (!c) return reply.code(303).header('location', '/login').send();
      if (!key) return html(reply, 503, codePage(NO_KEY));
      const attempt = ctx.limiter.attempt(c.op.name, req.ip);
      const audit = (
        outcome: 'ok' | 'failed' | 'denied',
        action: string,
        detail: Record<string, unknown>,
      ) =>
        ctx.audit.append({
          actor: c.op.name,
          actorRole: c.op.role,
          action,
          target: null,
          outcome,
          address: req.ip,
          detail,
        });
      if (!attempt.allowed) {
        await audit('denied', 'session.mfa', { reason: 'rate_limited' });
        void reply.header('retry-after', String(attempt.retryAfterSeconds));
        return html(
          reply,
          429,
          codePage(
            `Too many failed sign-ins. Try again in ${Math.ceil(attempt.retryAfterSeconds / 60)} minute(s).`,
          ),
        );
      }
      const code =
        typeof req.body?.code === 'string' ? req.body.code.trim().toLowerCase().slice(0, 32) : '';
      const now = ctx.now();
      const wrong = async (reason: string) => {
        await audit('failed', 'session.mfa', { reason });
        const message = 'That code is not right, or was used already.';
        return html(reply, 401, c.op.mfaEnrolled ? codePage(message) : await enrolView(c, message));
      };

      if (!c.op.mfaEnrolled) {
        const secret = await pendingSecret(c);
        const step = totpStep(secret, code, now);
        if (step === undefined) return wrong('wrong_code');
        if (!(await ctx.mfa.endChallenge(c.idHash))) return wrong('challenge_used');
        const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
        await ctx.mfa.enrol(
          c.op.id,
          seal(key!, Buffer.from(secret), context(c.op)),
          step,
          codes.map((x) => sha256(x)),
          now,
        );
        attempt.succeeded();
        await audit('ok', 'session.mfa_enrolled', {
          method: 'totp',
          recoveryCodes: RECOVERY_CODES,
        });
        const session = await startSession(ctx, req, c.op, { mfa: 'totp', enrolled: true });
        return reply
          .code(200)
          .header('set-cookie', [cookie('', 0), session])
          .type('text/html; charset=utf-8')
          .send(recoveryCodesPage(codes));
      }

      let method: 'totp' | 'recovery_code' | undefined;
      const sealed = await ctx.mfa.secretOf(c.op.id);
      const step = sealed
        ? totpStep(open(key!, sealed, context(c.op)).toString(), code, now)
        : undefined;
      // A code is good once: a step already taken (or an earlier one) is refused.
      if (step !== undefined && (await ctx.mfa.takeStep(c.op.id, step))) method = 'totp';
      else if (
        RECOVERY_CODE.test(code) &&
        (await ctx.mfa.useRecoveryCode(c.op.id, sha256(code), now))
      )
        method = 'recovery_code';
      if (!method) return wrong(step !== undefined ? 'code_reused' : 'wrong_code');
      if (!(await ctx.mfa.endChallenge(c.idHash))) return wrong('challenge_used');
      attempt.succeeded();
      const session = await startSession(ctx, req, c.op, { mfa: method });
      return reply
        .code(303)
        .header('set-cookie', [cookie('', 0), session])
        .header('location', '/')
        .send();
    },
  );
}

/**
 * After a right password: a challenge (a random token in a cookie, its hash stored) and the way
 * to the code or enrolment page.
 */
export async function askForSecondFactor(
  ctx: AdminContext,
  reply: FastifyReply,
  op: Operator,
): Promise<FastifyReply> {
  const token = randomToken();
  await ctx.mfa.startChallenge(sha256(token), op.id, ctx.now());
  return reply
    .code(303)
    .header('set-cookie', challengeCookie(Boolean(ctx.settings.tls), token, CHALLENGE_MS / 1000))
    .header('location', '/login/mfa')
    .send();
}

/** The challenge's cookie: `__Host-` under TLS (RFC 6265bis §4.1.3.2), like the session's. */
function challengeCookieName(tls: boolean): string {
  return tls ? '__Host-ctp_mfa' : 'ctp_mfa';
}

function challengeCookie(tls: boolean, value: string, maxAgeSeconds: number): string {
  return `${challengeCookieName(tls)}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${tls ? '; Secure' : ''}`;
}
