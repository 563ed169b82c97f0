import type { DataDecrypter, DataProtector } from './data-protector.js';

/**
 * Every issuer's data keys, for what reads rows of any issuer (the sinks' events): a ciphertext
 * names its data key, and a key id belongs to one issuer, for good (checked at start and at
 * every reload), so the key that made a row is the only one that reads it. Encryption and
 * fingerprints stay with each issuer's own {@link DataProtector}.
 */
export class DataKeyring implements DataDecrypter {
  readonly #byKeyId = new Map<string, { issuer: string; protector: DataProtector }>();

  constructor(protectors: ReadonlyMap<string, DataProtector>) {
    this.add(protectors);
  }

  /**
   * Why `protectors` (by issuer) cannot join the keyring: a key id already bound to another
   * issuer or to other key bytes. Undefined when they can.
   */
  conflict(protectors: ReadonlyMap<string, DataProtector>): string | undefined {
    for (const [issuer, p] of protectors)
      for (const id of p.keyIds) {
        const known = this.#byKeyId.get(id);
        if (known === undefined) continue;
        if (known.issuer !== issuer) return id;
        if (!known.protector.sameKey(id, p)) return id;
      }
    return undefined;
  }

  /**
   * Adds the keys of issuers configured by a reload. Keys are never taken out: rows of an issuer
   * removed from the configuration may still have events to deliver.
   */
  add(protectors: ReadonlyMap<string, DataProtector>): void {
    for (const [issuer, protector] of protectors)
      for (const id of protector.keyIds) this.#byKeyId.set(id, { issuer, protector });
  }

  decrypt(keyId: string, blob: Buffer, context: string): Buffer {
    const known = this.#byKeyId.get(keyId);
    if (known === undefined) throw new Error('data key not configured');
    return known.protector.decrypt(keyId, blob, context);
  }
}
