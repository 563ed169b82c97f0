import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';

// Random 96-bit GCM IVs (NIST SP 800-38D §8.2.2), drawn from a pool the CSPRNG refills: one
// randomFillSync per 512 IVs instead of one per encryption (each call costs a native job
// object), as Node's own randomUUID does. An IV is copied into the output before the next.
const IV_BYTES = 12;
const ivPool = Buffer.alloc(IV_BYTES * 512);
let ivOffset = ivPool.length;

function nextIv(): Buffer {
  if (ivOffset >= ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/** A 256-bit AES key with the id stored beside every ciphertext it makes. */
export interface DataKey {
  id: string;
  key: Buffer;
}

/** What reads protected data back: a {@link DataProtector}, or every issuer's (`DataKeyring`). */
export interface DataDecrypter {
  /** @throws Error if the key id is not configured or the ciphertext or context does not match. */
  decrypt(keyId: string, blob: Buffer, context: string): Buffer;
}

/** What is kept of a card number: never the number itself in clear. */
export interface ProtectedPan {
  /** Keyed HMAC-SHA-256 of the digits, base64url: look-ups and duplicate detection. */
  fingerprint: string;
  /** First six digits (issuer BIN), as PCI DSS 3.4 allows to be shown with the last four. */
  bin: string;
  last4: string;
  luhnValid: boolean;
  keyId: string;
  /** AES-256-GCM: 12-byte IV ‖ ciphertext ‖ 16-byte tag. */
  ciphertext: Buffer;
}

/**
 * Field-level encryption for card data at rest (PCI DSS v4 req. 3.5): AES-256-GCM under the
 * active data key, with the row's id as associated data so a ciphertext cannot be moved to
 * another row; a keyed fingerprint so equal card numbers can be found without decrypting.
 * Rotation: new rows use `keys[0]`; old rows name their key id and stay readable while that
 * key is configured.
 */
export class DataProtector implements DataDecrypter {
  readonly #keys: Map<string, Buffer>;
  readonly #active: DataKey;
  readonly #fingerprintKey: Buffer;

  constructor(keys: readonly DataKey[], fingerprintKey: Buffer) {
    const active = keys[0];
    if (active === undefined) throw new Error('at least one data key is required');
    this.#active = active;
    this.#keys = new Map(keys.map((k) => [k.id, k.key]));
    this.#fingerprintKey = fingerprintKey;
  }

  get activeKeyId(): string {
    return this.#active.id;
  }

  /** True when `other` holds the same key under `id` (compared in constant time). */
  sameKey(id: string, other: DataProtector): boolean {
    const a = this.#keys.get(id);
    const b = other.#keys.get(id);
    return a !== undefined && b !== undefined && timingSafeEqual(a, b);
  }

  /** True when `other` fingerprints with the same key. */
  sameFingerprintKey(other: DataProtector): boolean {
    return timingSafeEqual(this.#fingerprintKey, other.#fingerprintKey);
  }

  /** Every data key id this protector decrypts with. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** Keyed fingerprint of a card number (digits only). */
  fingerprint(pan: string): string {
    return createHmac('sha256', this.#fingerprintKey).update(pan, 'ascii').digest('base64url');
  }

  /**
   * Keyed HMAC-SHA-256 (base64url) of a normalised value under the fingerprint key, separated
   * by `purpose` (e.g. "email", "phone") so equal values of different kinds never collide and
   * never equal a card-number fingerprint. Used to find one email or phone across many cards
   * without storing it in clear.
   */
  keyedHash(purpose: string, value: string): string {
    return createHmac('sha256', this.#fingerprintKey)
      .update(`${purpose}\u0000${value}`, 'utf8')
      .digest('base64url');
  }

  protectPan(pan: string, rowId: string): ProtectedPan {
    return {
      fingerprint: this.fingerprint(pan),
      bin: pan.slice(0, 6),
      last4: pan.slice(-4),
      luhnValid: luhnValid(pan),
      keyId: this.#active.id,
      ciphertext: this.encrypt(Buffer.from(pan, 'ascii'), rowId),
    };
  }

  /** AES-256-GCM under the active key; `context` is bound as associated data. */
  encrypt(plaintext: Buffer, context: string): Buffer {
    return seal(this.#active.key, plaintext, context);
  }

  /** @throws Error if the key id is not configured or the ciphertext or context does not match. */
  decrypt(keyId: string, blob: Buffer, context: string): Buffer {
    const key = this.#keys.get(keyId);
    if (key === undefined) throw new Error('data key not configured');
    return open(key, blob, context);
  }
}

/**
 * AES-256-GCM of `plaintext` under `key` with `context` as associated data: 12-byte IV ‖
 * ciphertext ‖ 16-byte tag (NIST SP 800-38D).
 */
export function seal(key: Buffer, plaintext: Buffer, context: string): Buffer {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Opens what {@link seal} made. @throws Error if the key, blob or context does not match. */
export function open(key: Buffer, blob: Buffer, context: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
}

/** ISO/IEC 7812-1 check digit. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}
