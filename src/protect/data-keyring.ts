import type { DataDecrypter, DataProtector } from './data-protector.js';

/**
 * Every issuer's data keys, for what reads rows of any issuer (the sinks' events): a ciphertext
 * names its data key, and key ids are unique across issuers (checked at start), so the key that
 * made a row is the only one that reads it. Encryption and fingerprints stay with each issuer's
 * own {@link DataProtector}.
 */
export class DataKeyring implements DataDecrypter {
  readonly #byKeyId = new Map<string, DataProtector>();

  constructor(protectors: readonly DataProtector[]) {
    this.add(protectors);
  }

  /**
   * Adds the keys of issuers configured by a reload. Keys are never taken out: rows of an issuer
   * removed from the configuration may still have events to deliver.
   */
  add(protectors: readonly DataProtector[]): void {
    for (const p of protectors) for (const id of p.keyIds) this.#byKeyId.set(id, p);
  }

  decrypt(keyId: string, blob: Buffer, context: string): Buffer {
    const p = this.#byKeyId.get(keyId);
    if (p === undefined) throw new Error('data key not configured');
    return p.decrypt(keyId, blob, context);
  }
}
