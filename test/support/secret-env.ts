import { randomBytes } from 'node:crypto';

/**
 * Puts `value` in a fresh environment variable of this process and returns the reference to it,
 * for configs that need a secret (configs never hold one inline). Child processes started with
 * `process.env` (cli-process.ts) inherit it.
 */
export function secretEnv(value: string): { env: string } {
  const name = `CTP_TEST_SECRET_${randomBytes(6).toString('hex').toUpperCase()}`;
  process.env[name] = value;
  return { env: name };
}
