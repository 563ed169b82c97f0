import { StorageError } from '../../errors.js';
import type { DataProtector } from '../../protect/data-protector.js';
import type { CardholderStore } from '../../storage/cardholder-store.js';
import type { CardholderDirectory, DirectoryResult } from './cardholder.js';
import { openCardholder } from './cardholder-codec.js';

/**
 * The directory imported with `ctp-notify cardholders import`, read from the service's own
 * database.
 */
export class LocalDirectory implements CardholderDirectory {
  readonly wantsCardNumber = false;
  /** Synchronous SQLite reads: no limit. */
  readonly maxConcurrentLookups = Number.POSITIVE_INFINITY;
  readonly #store: CardholderStore;
  readonly #dp: DataProtector;

  constructor(store: CardholderStore, dp: DataProtector) {
    this.#store = store;
    this.#dp = dp;
  }

  async lookup(fingerprint: string): Promise<DirectoryResult> {
    const started = performance.now();
    try {
      const r = await this.#store.get(fingerprint);
      return r === undefined
        ? { kind: 'unknown' }
        : { kind: 'found', cardholder: openCardholder(this.#dp, r) };
    } catch (error) {
      // The service's own database failing (PostgreSQL restarting, say) fails the assessment as
      // a whole: the sweep does it again, rather than it being saved as if the cardholder had no
      // contact on file and the alert never sent. A record that cannot be opened stays
      // `unavailable`.
      if (error instanceof StorageError) throw error;
      return { kind: 'unavailable', reason: 'error', elapsedMs: performance.now() - started };
    }
  }

  async close(): Promise<void> {}
}
