import { formatScope, type IssuerScope, parseScope } from '../domain/issuer-scope.js';
import type { OperatorSource, Role } from '../domain/roles.js';
import type { SqlDriver } from './sql-driver.js';

/** An operator as the admin side sees one: never a hash. */
export interface Operator {
  id: string;
  name: string;
  role: Role;
  /** The issuers whose rows this operator sees and acts on. */
  scope: IssuerScope;
  /** `local` signs in with a password; `oidc` was made by the identity provider and signs in there. */
  source: OperatorSource;
  /** A local operator's second factor (TOTP) is enrolled. */
  mfaEnrolled: boolean;
  createdAt: number;
  disabledAt: number | null;
  lastLoginAt: number | null;
}

export interface NewOperator {
  id: string;
  name: string;
  role: Role;
  scope: IssuerScope;
  passwordHash: string;
  tokenHash: string;
  /** The first API token's expiry (ms), or null for none. */
  tokenExpiresAt: number | null;
  createdAt: number;
}

export interface Session {
  idHash: string;
  operator: Operator;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/** An operator's columns (alias `o`), for {@link toOperator}. */
export const OPERATOR_COLUMNS =
  'o.id, o.name, o.role, o.issuers, o.source, o.totp_enrolled_at, o.created_at, o.disabled_at, o.last_login_at';

export function toOperator(r: Record<string, unknown>): Operator {
  return {
    id: String(r.id),
    name: String(r.name),
    role: r.role as Role,
    scope: parseScope(String(r.issuers)),
    source: r.source === 'oidc' ? 'oidc' : 'local',
    mfaEnrolled: r.totp_enrolled_at != null,
    createdAt: Number(r.created_at),
    disabledAt: r.disabled_at == null ? null : Number(r.disabled_at),
    lastLoginAt: r.last_login_at == null ? null : Number(r.last_login_at),
  };
}

/** Operators and their console sessions, in the notification store's database (migration 4). */
export class OperatorStore {
  constructor(private readonly sql: SqlDriver) {}

  /** @returns false when the name is taken. */
  async create(op: NewOperator): Promise<boolean> {
    const taken = await this.sql.all('SELECT 1 FROM operators WHERE name = ?', [op.name]);
    if (taken.length > 0) return false;
    await this.sql.run(
      'INSERT INTO operators (id, name, role, issuers, password_hash, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [op.id, op.name, op.role, formatScope(op.scope), op.passwordHash, op.tokenHash, op.createdAt],
    );
    // The first API token (migration 11): the one `operators add` prints.
    await this.sql.run(
      "INSERT INTO api_tokens (id, operator_id, name, token_hash, created_at, expires_at) VALUES (?, ?, 'initial', ?, ?, ?)",
      [op.id, op.id, op.tokenHash, op.createdAt, op.tokenExpiresAt],
    );
    return true;
  }

  async byName(name: string): Promise<(Operator & { passwordHash: string }) | undefined> {
    const [r] = await this.sql.all(
      `SELECT ${OPERATOR_COLUMNS}, o.password_hash FROM operators o WHERE o.name = ?`,
      [name],
    );
    return r ? { ...toOperator(r), passwordHash: String(r.password_hash) } : undefined;
  }

  async byId(id: string): Promise<Operator | undefined> {
    const [r] = await this.sql.all(`SELECT ${OPERATOR_COLUMNS} FROM operators o WHERE o.id = ?`, [
      id,
    ]);
    return r ? toOperator(r) : undefined;
  }

  async list(): Promise<Operator[]> {
    return (await this.sql.all(`SELECT ${OPERATOR_COLUMNS} FROM operators o ORDER BY o.name`)).map(
      toOperator,
    );
  }

  /**
   * Disables (and signs out) or re-enables an operator. @returns false when there is no such
   * operator.
   */
  async setDisabled(name: string, disabledAt: number | null): Promise<boolean> {
    const changed = await this.sql.run('UPDATE operators SET disabled_at = ? WHERE name = ?', [
      disabledAt,
      name,
    ]);
    if (changed > 0 && disabledAt !== null) {
      await this.sql.run(
        'DELETE FROM operator_sessions WHERE operator_id IN (SELECT id FROM operators WHERE name = ?)',
        [name],
      );
    }
    return changed > 0;
  }

  async recordLogin(id: string, at: number): Promise<void> {
    await this.sql.run('UPDATE operators SET last_login_at = ? WHERE id = ?', [at, id]);
  }

  async createSession(
    s: Omit<Session, 'operator'> & { operatorId: string; address: string | null },
  ): Promise<void> {
    await this.sql.run(
      'INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at, address) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [s.idHash, s.operatorId, s.csrfToken, s.createdAt, s.lastSeenAt, s.expiresAt, s.address],
    );
  }

  /** A live session of an enabled operator, or undefined. */
  async session(idHash: string, now: number): Promise<Session | undefined> {
    const [r] = await this.sql.all(
      `SELECT ${OPERATOR_COLUMNS}, s.id_hash, s.csrf_token, s.created_at AS s_created, s.last_seen_at, s.expires_at
       FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
       WHERE s.id_hash = ? AND s.expires_at > ? AND o.disabled_at IS NULL`,
      [idHash, now],
    );
    if (!r) return undefined;
    return {
      idHash: String(r.id_hash),
      operator: toOperator(r),
      csrfToken: String(r.csrf_token),
      createdAt: Number(r.s_created),
      lastSeenAt: Number(r.last_seen_at),
      expiresAt: Number(r.expires_at),
    };
  }

  async touchSession(idHash: string, lastSeenAt: number, expiresAt: number): Promise<void> {
    await this.sql.run(
      'UPDATE operator_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?',
      [lastSeenAt, expiresAt, idHash],
    );
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.sql.run('DELETE FROM operator_sessions WHERE id_hash = ?', [idHash]);
  }

  /** Signs an operator out everywhere. */
  async endSessions(operatorId: string): Promise<void> {
    await this.sql.run('DELETE FROM operator_sessions WHERE operator_id = ?', [operatorId]);
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    return this.sql.run('DELETE FROM operator_sessions WHERE expires_at <= ?', [now]);
  }

  /** The operator the identity provider's subject made, if any. */
  async bySubject(subject: string): Promise<Operator | undefined> {
    const [r] = await this.sql.all(
      `SELECT ${OPERATOR_COLUMNS} FROM operators o WHERE o.subject = ?`,
      [subject],
    );
    return r ? toOperator(r) : undefined;
  }

  /**
   * Makes the operator of a provider's subject, or gives the existing one the role and scope
   * the provider's groups map to now. @returns false when `name` is another operator's.
   */
  async upsertFromProvider(p: {
    subject: string;
    name: string;
    role: Role;
    scope: IssuerScope;
    newId: string;
    passwordHash: string;
    tokenHash: string;
    at: number;
  }): Promise<boolean> {
    const changed = await this.sql.run(
      'UPDATE operators SET role = ?, issuers = ? WHERE subject = ?',
      [p.role, formatScope(p.scope), p.subject],
    );
    if (changed > 0) return true;
    const taken = await this.sql.all('SELECT 1 FROM operators WHERE name = ?', [p.name]);
    if (taken.length > 0) return false;
    await this.sql.run(
      `INSERT INTO operators (id, name, role, issuers, source, subject, password_hash, token_hash, created_at)
       VALUES (?, ?, ?, ?, 'oidc', ?, ?, ?, ?)`,
      [p.newId, p.name, p.role, formatScope(p.scope), p.subject, p.passwordHash, p.tokenHash, p.at],
    );
    return true;
  }

  /** Keeps a sign-in under way (by the hash of its `state`) until the provider sends it back. */
  async saveLogin(
    stateHash: string,
    codeVerifier: string,
    nonce: string,
    at: number,
  ): Promise<void> {
    await this.sql.run(
      'INSERT INTO oidc_logins (state_hash, code_verifier, nonce, created_at) VALUES (?, ?, ?, ?)',
      [stateHash, codeVerifier, nonce, at],
    );
    await this.sql.run('DELETE FROM oidc_logins WHERE created_at < ?', [at - 3_600_000]);
  }

  /**
   * Takes a sign-in under way once: it is gone after this, so a replayed callback finds nothing.
   * Undefined when unknown or started before `notBefore`.
   */
  async takeLogin(
    stateHash: string,
    notBefore: number,
  ): Promise<{ codeVerifier: string; nonce: string } | undefined> {
    const [r] = await this.sql.all(
      'SELECT code_verifier, nonce, created_at FROM oidc_logins WHERE state_hash = ?',
      [stateHash],
    );
    if (!r) return undefined;
    const removed = await this.sql.run('DELETE FROM oidc_logins WHERE state_hash = ?', [stateHash]);
    // Two callbacks racing: only the one that removed the row goes on.
    if (removed === 0 || Number(r.created_at) < notBefore) return undefined;
    return { codeVerifier: String(r.code_verifier), nonce: String(r.nonce) };
  }
}
