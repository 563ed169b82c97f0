import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a value a client sent with a secret the server holds, in time independent of where
 * they differ. Both sides are hashed (SHA-256) first so that `timingSafeEqual` gets equal
 * lengths and the secret's length is not revealed either. Anything but a string (absent, a
 * repeated header) is unequal.
 */
export function constantTimeEqual(given: unknown, secret: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(a, b);
}
