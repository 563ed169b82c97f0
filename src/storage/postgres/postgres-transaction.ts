import type pg from 'pg';
import { StorageError } from '../../errors.js';

/**
 * Runs `fn` inside BEGIN … COMMIT on a client of `pool`, rolling back on any error. A client
 * whose ROLLBACK fails as well (its connection broke mid-transaction) is discarded, not handed
 * back to the pool for the next caller to trip over.
 *
 * @param failure message of the StorageError that wraps a cause which is not one already
 * @throws StorageError "cannot connect to PostgreSQL" when no client can be had
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  failure: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (cause) {
    throw new StorageError('cannot connect to PostgreSQL', { cause });
  }
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (cause) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw cause instanceof StorageError ? cause : new StorageError(failure, { cause });
  } finally {
    client.release(broken);
  }
}
