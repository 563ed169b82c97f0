import type { SqlDriver } from './sql-driver.js';

/** A sign-in whose password was right, waiting for its second factor. */
export interface MfaChallenge {
  operatorId: string;
  /** The secret being enrolled (encrypted), shown as a QR code until a code proves it. */
  pendingSecret: Buffer | null;
  createdAt: number;
}

/**
 * Local operators' second factor (migration 12): the encrypted TOTP secret, the last time step
 * a code was accepted for, recovery codes by hash, and sign-ins awaiting a code.
 */
export class MfaStore {
  constructor(private readonly sql: SqlDriver) {}

  async challenge(idHash: string, notBefore: number): Promise<MfaChallenge | undefined> {
    const [r] = await this.sql.all(
      'SELECT operator_id, pending_secret, created_at FROM mfa_challenges WHERE id_hash = ? AND created_at >= ?',
      [idHash, notBefore],
    );
    if (!r) return undefined;
    return {
      operatorId: String(r.operator_id),
      pendingSecret: r.pending_secret == null ? null : Buffer.from(r.pending_secret as Uint8Array),
      createdAt: Number(r.created_at),
    };
  }

  async startChallenge(idHash: string, operatorId: string, at: number): Promise<void> {
    await this.sql.run('DELETE FROM mfa_challenges WHERE created_at < ?', [at - 3_600_000]);
    await this.sql.run(
      'INSERT INTO mfa_challenges (id_hash, operator_id, created_at) VALUES (?, ?, ?)',
      [idHash, operatorId, at],
    );
  }

  async setPendingSecret(idHash: string, sealed: Buffer): Promise<void> {
    await this.sql.run('UPDATE mfa_challenges SET pending_secret = ? WHERE id_hash = ?', [
      sealed,
      idHash,
    ]);
  }

  /** Ends a challenge. @returns false when it was already ended (a second submission). */
  async endChallenge(idHash: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM mfa_challenges WHERE id_hash = ?', [idHash])) > 0;
  }

  /** The operator's enrolled secret (encrypted), if any. */
  async secretOf(operatorId: string): Promise<Buffer | undefined> {
    const [r] = await this.sql.all(
      'SELECT totp_secret FROM operators WHERE id = ? AND totp_enrolled_at IS NOT NULL',
      [operatorId],
    );
    return r?.totp_secret == null ? undefined : Buffer.from(r.totp_secret as Uint8Array);
  }

  /**
   * Takes time step `step` for the operator: @returns false when it or a later one was taken,
   * so a code is accepted once (RFC 6238 §5.2).
   */
  async takeStep(operatorId: string, step: number): Promise<boolean> {
    const changed = await this.sql.run(
      'UPDATE operators SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)',
      [step, operatorId, step],
    );
    return changed > 0;
  }

  /** Enrols a secret proven by a code of `step`, replacing the recovery codes. */
  async enrol(
    operatorId: string,
    sealed: Buffer,
    step: number,
    recoveryHashes: readonly string[],
    at: number,
  ): Promise<void> {
    await this.sql.run(
      'UPDATE operators SET totp_secret = ?, totp_enrolled_at = ?, totp_last_step = ? WHERE id = ?',
      [sealed, at, step, operatorId],
    );
    await this.sql.run('DELETE FROM operator_recovery_codes WHERE operator_id = ?', [operatorId]);
    for (const h of recoveryHashes)
      await this.sql.run(
        'INSERT INTO operator_recovery_codes (operator_id, code_hash) VALUES (?, ?)',
        [operatorId, h],
      );
  }

  /** Uses a recovery code once. @returns false when unknown or used. */
  async useRecoveryCode(operatorId: string, hash: string, at: number): Promise<boolean> {
    const changed = await this.sql.run(
      'UPDATE operator_recovery_codes SET used_at = ? WHERE operator_id = ? AND code_hash = ? AND used_at IS NULL',
      [at, operatorId, hash],
    );
    return changed > 0;
  }

  /** Forgets an operator's second factor (a lost device): they enrol again at sign-in. */
  async reset(operatorId: string): Promise<boolean> {
    await this.sql.run('DELETE FROM operator_recovery_codes WHERE operator_id = ?', [operatorId]);
    const changed = await this.sql.run(
      'UPDATE operators SET totp_secret = NULL, totp_enrolled_at = NULL, totp_last_step = NULL WHERE id = ?',
      [operatorId],
    );
    return changed > 0;
  }
}
