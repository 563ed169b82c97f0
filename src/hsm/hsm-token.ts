import { createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError, KeyUnavailableError } from '../errors.js';
import {
  acquireModule,
  isDataError,
  type Pkcs11,
  pkcs11js,
  reinitializeModule,
  releaseModule,
  tokenCodeOf,
} from './pkcs11-binding.js';

/** What opening a token needs: the `hsm` block with its PIN resolved. */
export interface HsmTokenOptions {
  module: string;
  /** Token label; or `slot`. */
  token?: string | undefined;
  slot?: number | undefined;
  pin: string;
  /** JSON pointer of the PIN's secret reference, for messages (`/hsm/pin/file`). */
  pinField: string;
  /** Sessions kept open (default 4). */
  sessions?: number;
  /** Reconnect period after a fault, ms (default 2000). */
  reconnectMs?: number;
  libraryParameters?: string | undefined;
  /** Read-write sessions (the key ceremony); serving needs read-only ones. Default false. */
  readWrite?: boolean;
  /** Called with the CKR_… name of each token fault (a metric counts them). */
  onFault?: (tokenCode: string) => void;
  /** Called when the sessions are back after a fault. */
  onHealed?: () => void;
}

/** A private RSA key in the token, as its attributes say (never its private parts). */
export interface TokenKeyInfo {
  label: string;
  publicKey: KeyObject;
  modulusBytes: number;
  /** CKA_PRIVATE, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_DECRYPT, CKA_SIGN as read back. */
  isPrivate: boolean;
  sensitive: boolean;
  extractable: boolean;
  decrypt: boolean;
  sign: boolean;
}

interface Lease {
  session: Buffer;
  generation: number;
}

/**
 * One PKCS#11 token for one process: the module loaded and initialised once (C_Initialize with
 * CKF_OS_LOCKING_OK, since calls come from libuv's threads), the user logged in, and a pool of
 * sessions. Decryption takes a session from the pool and runs `C_Decrypt` on the thread pool
 * (`C_DecryptAsync`). Cluster workers are separate processes (`cluster.fork` spawns, it does not
 * fork(2)), so each opens its own token and sessions, as PKCS#11 §6.7.7 requires of a child.
 *
 * A fault (a return value that is not about the ciphertext: session closed, object handle gone,
 * device removed) fails the operation with {@link KeyUnavailableError}, drops every session and
 * reconnects every `reconnectMs` until the sessions, the login and every key's handle are back;
 * meanwhile {@link HsmToken.healthy} is false and operations fail at once.
 */
export class HsmToken {
  readonly #module: ReturnType<typeof acquireModule>;
  readonly #p: Pkcs11.PKCS11;
  readonly #o: HsmTokenOptions;
  readonly #size: number;
  #slot: Buffer;
  /** Label → object handle, found again after each reconnect (handles do not survive one). */
  readonly #handles = new Map<string, Buffer>();
  #idle: Buffer[] = [];
  /** Every session this token opened in the current generation (idle or leased). */
  #sessions: Buffer[] = [];
  #waiters: { resolve: (l: Lease) => void; reject: (e: Error) => void }[] = [];
  #inFlight = 0;
  #generation = 0;
  #state: 'ready' | 'broken' | 'closed' = 'ready';
  #lastCode = '';
  #timer: NodeJS.Timeout | undefined;
  /** Token label, manufacturer and model, for operators. */
  readonly description: { token: string; manufacturer: string; model: string; serial: string };

  private constructor(m: ReturnType<typeof acquireModule>, o: HsmTokenOptions, slot: Buffer) {
    this.#module = m;
    const p = m.p;
    this.#p = p;
    this.#o = o;
    this.#size = o.sessions ?? 4;
    this.#slot = slot;
    const info = p.C_GetTokenInfo(slot);
    this.description = {
      token: info.label.trim(),
      manufacturer: info.manufacturerID.trim(),
      model: info.model.trim(),
      serial: info.serialNumber.trim(),
    };
  }

  /**
   * Loads the module, finds the token, logs in and opens the sessions. Synchronous: it runs once,
   * at start.
   * @throws ConfigError naming `/hsm/module`, `/hsm/token`, `/hsm/slot` or the PIN's field (the
   * PIN itself is never in a message).
   */
  static open(o: HsmTokenOptions): HsmToken {
    let m: ReturnType<typeof acquireModule>;
    try {
      m = acquireModule(o.module, o.libraryParameters);
    } catch (e) {
      const code = tokenCodeOf(e);
      throw new ConfigError(
        '/hsm/module',
        code.startsWith('CKR_')
          ? `C_Initialize failed (${code})`
          : `cannot load the PKCS#11 module ${o.module}`,
      );
    }
    try {
      const token = new HsmToken(m, o, findSlot(m.p, o));
      token.#connect();
      return token;
    } catch (e) {
      releaseModule(o.module, m);
      throw e;
    }
  }

  /** False between a fault and the reconnect that heals it. */
  get healthy(): boolean {
    return this.#state === 'ready';
  }

  /** The CKR_… name of the last fault, '' when there was none. */
  get lastFault(): string {
    return this.#lastCode;
  }

  /**
   * The private key labelled `label`, read back from the token; its handle is kept (and found
   * again after every reconnect).
   * @returns undefined when the token has no private key with that label.
   */
  key(label: string): TokenKeyInfo | undefined {
    return this.#withSession((s) => {
      const handle = findPrivateKey(this.#p, s, label);
      if (handle === undefined) return undefined;
      this.#handles.set(label, handle);
      return readKeyInfo(this.#p, s, handle, label);
    });
  }

  /**
   * Decrypts on the event loop: start-up self-tests and data-key unwrapping only. A refusal
   * (mechanism not supported, key not permitted) is thrown as the module's error, not as a fault:
   * at start it is a configuration mistake.
   * @returns undefined when the token says the ciphertext does not decrypt.
   */
  decryptSync(label: string, mechanism: Pkcs11.Mechanism, data: Buffer): Buffer | undefined {
    return this.#withSession((s) => {
      try {
        this.#p.C_DecryptInit(s, mechanism, this.#handle(label));
        return this.#p.C_Decrypt(s, data, Buffer.alloc(data.length));
      } catch (e) {
        if (isDataError(e)) return undefined;
        throw e;
      }
    });
  }

  /**
   * Decrypts `data` with the key labelled `label` on libuv's thread pool.
   * @returns the plaintext, or undefined when the token says the ciphertext does not decrypt.
   * @throws KeyUnavailableError on a token fault (the caller answers 500 and stores nothing).
   */
  async decrypt(
    label: string,
    mechanism: Pkcs11.Mechanism,
    data: Buffer,
  ): Promise<Buffer | undefined> {
    const lease = await this.#acquire();
    this.#inFlight++;
    let healthy = true;
    try {
      this.#p.C_DecryptInit(lease.session, mechanism, this.#handle(label));
      return await this.#p.C_DecryptAsync(lease.session, data, Buffer.alloc(data.length));
    } catch (e) {
      if (isDataError(e)) return undefined;
      healthy = false;
      throw this.#fault(e, lease.generation);
    } finally {
      this.#inFlight--;
      if (healthy) this.#release(lease);
    }
  }

  /** Signs with CKM_SHA256_RSA_PKCS (RSASSA-PKCS1-v1_5, SHA-256): the key ceremony's certificate. */
  signSync(label: string, data: Buffer): Buffer {
    return this.#withSession((s) => {
      const p = this.#p;
      p.C_SignInit(s, { mechanism: pkcs11js().CKM_SHA256_RSA_PKCS }, this.#handle(label));
      return p.C_Sign(s, data, Buffer.alloc(1024));
    });
  }

  /** Runs `fn` with a raw session, for the key ceremony's calls (generate, set attributes). */
  withSession<T>(fn: (p: Pkcs11.PKCS11, session: Buffer) => T): T {
    return this.#withSession((s) => fn(this.#p, s));
  }

  /** Logs out, closes the sessions and finalises the module. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearInterval(this.#timer);
    const closed = new KeyUnavailableError('CKR_SESSION_CLOSED');
    for (const w of this.#waiters.splice(0)) w.reject(closed);
    this.#closeSessions();
    releaseModule(this.#o.module, this.#module);
  }

  /**
   * Closes this token's own sessions one by one: C_CloseAllSessions would also close those of
   * another user of the same module in this process.
   */
  #closeSessions(): void {
    for (const s of this.#sessions.splice(0)) {
      try {
        this.#p.C_CloseSession(s);
      } catch {
        // already gone
      }
    }
  }

  #handle(label: string): Buffer {
    const h = this.#handles.get(label);
    if (h === undefined) throw new Error(`no handle for token key ${label}`);
    return h;
  }

  #withSession<T>(fn: (s: Buffer) => T): T {
    if (this.#state !== 'ready')
      throw new KeyUnavailableError(this.#lastCode || 'CKR_GENERAL_ERROR');
    const session = this.#idle.pop();
    if (session === undefined) throw new Error('no idle token session');
    const generation = this.#generation;
    try {
      return fn(session);
    } finally {
      if (generation === this.#generation && this.#state === 'ready') this.#idle.push(session);
    }
  }

  #acquire(): Promise<Lease> {
    if (this.#state !== 'ready')
      return Promise.reject(new KeyUnavailableError(this.#lastCode || 'CKR_GENERAL_ERROR'));
    const session = this.#idle.pop();
    if (session !== undefined) return Promise.resolve({ session, generation: this.#generation });
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #release(lease: Lease): void {
    if (lease.generation !== this.#generation || this.#state !== 'ready') return;
    const next = this.#waiters.shift();
    if (next) next.resolve(lease);
    else this.#idle.push(lease.session);
  }

  /** Records a fault once per generation, drops the sessions and starts reconnecting. */
  #fault(error: unknown, generation: number): KeyUnavailableError {
    const code = tokenCodeOf(error);
    this.#o.onFault?.(code);
    const failure = new KeyUnavailableError(code);
    if (generation !== this.#generation || this.#state !== 'ready') return failure;
    this.#lastCode = code;
    this.#state = 'broken';
    this.#generation++;
    this.#idle = [];
    for (const w of this.#waiters.splice(0)) w.reject(failure);
    this.#closeSessions();
    this.#timer = setInterval(() => this.#heal(), this.#o.reconnectMs ?? 2000);
    this.#timer.unref();
    return failure;
  }

  #heal(): void {
    if (this.#state !== 'broken') return;
    if (!this.#tryConnect()) {
      // A module that lost its device keeps the token invalid until initialised again (SoftHSM
      // does); only safe with no call in flight (PKCS#11 §5.4: C_Finalize while other calls
      // run is undefined).
      if (this.#inFlight !== 0) return;
      if (!reinitializeModule(this.#module, this.#o.libraryParameters)) return;
      if (!this.#tryConnect()) return;
    }
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#state = 'ready';
    this.#o.onHealed?.();
  }

  #tryConnect(): boolean {
    try {
      this.#connect();
      return true;
    } catch (e) {
      this.#lastCode = e instanceof KeyUnavailableError ? e.tokenCode : tokenCodeOf(e);
      this.#closeSessions();
      this.#idle = [];
      return false;
    }
  }

  /** Opens the sessions, logs in and finds every known key's handle again. */
  #connect(): void {
    const lib = pkcs11js();
    const p = this.#p;
    if (this.#o.token !== undefined) this.#slot = findSlot(p, this.#o);
    const flags = lib.CKF_SERIAL_SESSION | (this.#o.readWrite ? lib.CKF_RW_SESSION : 0);
    const sessions: Buffer[] = [];
    try {
      sessions.push(p.C_OpenSession(this.#slot, flags));
      login(p, sessions[0] as Buffer, this.#o);
      for (const label of this.#handles.keys()) {
        const h = findPrivateKey(p, sessions[0] as Buffer, label);
        if (h === undefined) throw new KeyUnavailableError('CKR_OBJECT_HANDLE_INVALID');
        this.#handles.set(label, h);
      }
      while (sessions.length < this.#size) sessions.push(p.C_OpenSession(this.#slot, flags));
    } catch (e) {
      for (const s of sessions) {
        try {
          p.C_CloseSession(s);
        } catch {
          // closing anyway
        }
      }
      throw e;
    }
    this.#idle = [...sessions];
    this.#sessions = sessions;
  }
}

function findSlot(p: Pkcs11.PKCS11, o: HsmTokenOptions): Buffer {
  const slots = p.C_GetSlotList(true);
  if (o.slot !== undefined) {
    const want = BigInt(o.slot);
    const slot = slots.find((s) => s.readBigUInt64LE(0) === want);
    if (slot === undefined) throw new ConfigError('/hsm/slot', `no token in slot ${o.slot}`);
    return slot;
  }
  // A token's label is public (C_GetTokenInfo answers before login).
  const wantedLabel = o.token;
  const labels: string[] = [];
  for (const s of slots) {
    let label: string;
    try {
      label = p.C_GetTokenInfo(s).label.trim();
    } catch {
      continue;
    }
    if (label === wantedLabel) return s;
    if (label !== '') labels.push(label);
  }
  throw new ConfigError(
    '/hsm/token',
    `no token labelled "${o.token}" (tokens present: ${labels.length ? labels.map((l) => `"${l}"`).join(', ') : 'none'})`,
  );
}

function login(p: Pkcs11.PKCS11, session: Buffer, o: HsmTokenOptions): void {
  const lib = pkcs11js();
  try {
    p.C_Login(session, lib.CKU_USER, o.pin);
  } catch (e) {
    const code = tokenCodeOf(e);
    if (code === 'CKR_USER_ALREADY_LOGGED_IN') return;
    if (code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_LOCKED' || code === 'CKR_PIN_EXPIRED')
      throw new ConfigError(o.pinField, `the token refused the PIN (${code})`);
    throw e;
  }
}

function findPrivateKey(p: Pkcs11.PKCS11, session: Buffer, label: string): Buffer | undefined {
  const lib = pkcs11js();
  p.C_FindObjectsInit(session, [
    { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
    { type: lib.CKA_LABEL, value: label },
  ]);
  try {
    const found = p.C_FindObjects(session, 2);
    if (found.length > 1) throw new KeyUnavailableError('CKR_KEY_HANDLE_INVALID');
    return found[0];
  } finally {
    p.C_FindObjectsFinal(session);
  }
}

function readKeyInfo(
  p: Pkcs11.PKCS11,
  session: Buffer,
  handle: Buffer,
  label: string,
): TokenKeyInfo {
  const lib = pkcs11js();
  const [keyType, modulus, exponent, priv, sensitive, extractable, decrypt, sign] = p
    .C_GetAttributeValue(session, handle, [
      { type: lib.CKA_KEY_TYPE },
      { type: lib.CKA_MODULUS },
      { type: lib.CKA_PUBLIC_EXPONENT },
      { type: lib.CKA_PRIVATE },
      { type: lib.CKA_SENSITIVE },
      { type: lib.CKA_EXTRACTABLE },
      { type: lib.CKA_DECRYPT },
      { type: lib.CKA_SIGN },
    ])
    .map((a) => a.value as Buffer);
  if (keyType?.readUInt32LE(0) !== lib.CKK_RSA || modulus === undefined || exponent === undefined)
    throw new Error('not an RSA key');
  const bool = (b: Buffer | undefined) => b !== undefined && b.length > 0 && b[0] !== 0;
  const n = stripLeadingZeros(modulus);
  return {
    label,
    publicKey: createPublicKey({
      key: {
        kty: 'RSA',
        n: n.toString('base64url'),
        e: stripLeadingZeros(exponent).toString('base64url'),
      },
      format: 'jwk',
    }),
    modulusBytes: n.length,
    isPrivate: bool(priv),
    sensitive: bool(sensitive),
    extractable: bool(extractable),
    decrypt: bool(decrypt),
    sign: bool(sign),
  };
}

function stripLeadingZeros(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}
