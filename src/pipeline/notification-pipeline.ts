import { createHash, type KeyObject } from 'node:crypto';
import type { Config } from '../config/config-schema.js';
import { DEFAULT_ISSUER_ID } from '../domain/issuer-ids.js';
import type { SignatureAlgorithm } from '../domain/jose-algorithms.js';
import {
  KeyUnavailableError,
  type QuarantineCode,
  QuarantineError,
  type RejectCode,
  RejectedError,
  StorageError,
} from '../errors.js';
import { decryptCompactJwe, type JweAllowList } from '../jose/compact-jwe.js';
import { verifyCompactJws } from '../jose/compact-jws.js';
import type { DecryptionKey } from '../jose/decryption-key.js';
import type { DataProtector, ProtectedPan } from '../protect/data-protector.js';
import type {
  NotificationRecord,
  QuarantinedNotification,
  RecordOutcome,
} from '../storage/notification-record.js';
import type { NotificationStore } from '../storage/notification-store.js';
import { step } from '../telemetry/tracing.js';
import { uuidV7 } from '../util/uuid-v7.js';
import { binInRanges } from '../visa/bin-in-ranges.js';
import { isEventType } from '../visa/event-type.js';
import { isTokenRequestorId } from '../visa/token-requestor-id.js';
import {
  type ClientCertificatePin,
  type ClientCertificateState,
  checkClientCertificate,
  checkXPayToken,
} from './authenticate.js';
import { type PayloadFields, validatePayload } from './validate-payload.js';

/** Visa's page: encryptedData is a string of at most 7000 characters. */
export const MAX_ENCRYPTED_DATA = 7000;

/** A Visa request as the transport hands it over: nothing parsed yet but the route. */
export interface InboundNotification {
  tokenRequestorId: string;
  /** Raw `eventType` query parameter; undefined when absent or repeated. */
  eventType: string | undefined;
  /** Path after any base path, without the leading "/" (X-Pay-Token's resourcePath). */
  resourcePath: string;
  /** Raw query string without "?". */
  queryString: string;
  contentType: string | undefined;
  body: Buffer | undefined;
  /** Undefined when the connection is not TLS. */
  clientCertificate: ClientCertificateState | undefined;
  xPayToken: string | undefined;
}

export type PipelineOutcome =
  | { kind: 'accepted'; id: string; result: RecordOutcome['result'] }
  | { kind: 'quarantined'; id: string; code: QuarantineCode; result: RecordOutcome['result'] }
  | { kind: 'rejected'; code: RejectCode }
  | { kind: 'failed'; code: FailureCode; error: unknown };

/** Why a notification was not stored: Visa gets 500 and retries. */
export type FailureCode = 'STORAGE_UNAVAILABLE' | 'KEY_UNAVAILABLE' | 'INTERNAL';

function failureCode(error: unknown): FailureCode {
  if (error instanceof StorageError) return 'STORAGE_UNAVAILABLE';
  if (error instanceof KeyUnavailableError) return 'KEY_UNAVAILABLE';
  return 'INTERNAL';
}

export interface PipelineOptions {
  /** The issuer whose endpoint this pipeline serves: every record it makes is this issuer's. */
  issuer: string;
  /** The issuer's card ranges (`binRanges`); undefined: not checked. */
  binRanges?: readonly string[] | undefined;
  store: NotificationStore;
  verificationKeys: ReadonlyMap<string, KeyObject>;
  decryptionKeys: ReadonlyMap<string, DecryptionKey>;
  dataProtector: DataProtector;
  jose: Config['jose'];
  /** Allow-list; undefined admits any 11-digit ID. */
  tokenRequestorIds?: ReadonlySet<string> | undefined;
  requireClientCertificate: boolean;
  /** With `requireClientCertificate`: which of the CA's certificates is Visa's. Default: any. */
  clientCertificatePin?: ClientCertificatePin | undefined;
  xPayToken?: { secret: Buffer; skewSeconds: number } | undefined;
  /** Milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /**
   * Called after a notification is committed as accepted for the first time (inserted, or
   * promoted from quarantine), never for a retry: the risk assessment is queued here, after
   * the commit and off Visa's clock. Must not throw or block.
   */
  onAccepted?: (id: string) => void;
}

/**
 * authenticate → verify → decrypt → validate → store. Transport-neutral: the HTTP route maps the
 * outcome to a status, the CLI's `quarantine reprocess` re-enters at verify.
 */
export class NotificationPipeline {
  readonly #o: PipelineOptions;
  readonly #now: () => number;
  readonly #jweAllow: JweAllowList;
  readonly #jwsAllow: readonly SignatureAlgorithm[];

  constructor(options: PipelineOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#jwsAllow = options.jose.signatureAlgorithms;
    this.#jweAllow = {
      keyManagement: options.jose.keyManagementAlgorithms,
      contentEncryption: options.jose.contentEncryptionAlgorithms,
    };
  }

  async handle(req: InboundNotification): Promise<PipelineOutcome> {
    const receivedAt = this.#now();
    let encryptedData: string;
    let jws: { kid: string; jwe: string };
    try {
      this.#checkCaller(req, receivedAt);
      encryptedData = parseEnvelope(req.contentType, req.body);
      const verified = step('verify', () =>
        verifyCompactJws(encryptedData, this.#o.verificationKeys, this.#jwsAllow),
      );
      jws = { kid: verified.kid, jwe: verified.payload.toString('latin1') };
    } catch (error) {
      if (error instanceof RejectedError) return { kind: 'rejected', code: error.code };
      return { kind: 'failed', code: 'INTERNAL', error };
    }

    try {
      const dedupKey = this.#dedupKey(encryptedData);
      // A retry of something already accepted needs no RSA operation.
      const existing = await this.#o.store.findByDedupKey(dedupKey);
      if (existing?.status === 'accepted') {
        await this.#o.store.countRetry(dedupKey);
        return { kind: 'accepted', id: existing.id, result: 'duplicate' };
      }
      const rec = await this.#open(jws, {
        id: uuidV7(receivedAt),
        dedupKey,
        receivedAt,
        tokenRequestorId: req.tokenRequestorId,
        eventType: req.eventType as string,
        encryptedData,
      });
      const stored = await step('commit', () => this.#o.store.record(rec));
      return this.#accepted(toOutcome(stored, rec));
    } catch (error) {
      return { kind: 'failed', code: failureCode(error), error };
    }
  }

  /**
   * What makes a retry the same notification: the envelope, within its issuer. The `default`
   * issuer's keys are the envelope's hash alone, as before issuers, so stored rows still match;
   * another issuer's hash starts with its id, so the same envelope sent to two issuers' endpoints
   * is two notifications, each under its own issuer.
   */
  #dedupKey(encryptedData: string): string {
    const h = createHash('sha256');
    if (this.#o.issuer !== DEFAULT_ISSUER_ID) h.update(`${this.#o.issuer}\u0000`, 'utf8');
    return h.update(encryptedData).digest('base64url');
  }

  #accepted(outcome: PipelineOutcome): PipelineOutcome {
    if (outcome.kind === 'accepted' && outcome.result !== 'duplicate')
      this.#o.onAccepted?.(outcome.id);
    return outcome;
  }

  /**
   * Runs a quarantined notification through verify → decrypt → validate again (e.g. after its
   * decryption key was installed) and stores the new verdict on the same row.
   */
  async reprocess(row: QuarantinedNotification): Promise<PipelineOutcome> {
    let jws: { kid: string; jwe: string };
    try {
      const verified = verifyCompactJws(
        row.encryptedData,
        this.#o.verificationKeys,
        this.#jwsAllow,
      );
      jws = { kid: verified.kid, jwe: verified.payload.toString('latin1') };
    } catch (error) {
      if (error instanceof RejectedError) return { kind: 'rejected', code: error.code };
      return { kind: 'failed', code: 'INTERNAL', error };
    }
    try {
      const rec = await this.#open(jws, row);
      return this.#accepted(toOutcome(await this.#o.store.updateQuarantined(rec), rec));
    } catch (error) {
      return { kind: 'failed', code: failureCode(error), error };
    }
  }

  /** Route, transport authentication and query checks; cheapest first, before any crypto. */
  #checkCaller(req: InboundNotification, nowMs: number): void {
    const allow = this.#o.tokenRequestorIds;
    if (
      !isTokenRequestorId(req.tokenRequestorId) ||
      (allow !== undefined && !allow.has(req.tokenRequestorId))
    ) {
      throw new RejectedError('TOKEN_REQUESTOR_UNKNOWN', 'tokenRequestorID unknown');
    }
    if (this.#o.requireClientCertificate)
      checkClientCertificate(req.clientCertificate, this.#o.clientCertificatePin);
    const xpt = this.#o.xPayToken;
    if (xpt !== undefined) {
      checkXPayToken(
        req.xPayToken,
        xpt.secret,
        req.resourcePath,
        req.queryString,
        req.body ?? Buffer.alloc(0),
        Math.floor(nowMs / 1000),
        xpt.skewSeconds,
      );
    }
    if (req.eventType === undefined || !isEventType(req.eventType)) {
      throw new RejectedError('EVENT_TYPE_INVALID', 'eventType missing or malformed');
    }
  }

  /**
   * decrypt → validate → protect. Never throws QuarantineError: it becomes a quarantined record.
   * A KeyUnavailableError (the key's token is down) passes through: nothing is stored then.
   */
  async #open(jws: { kid: string; jwe: string }, base: RecordBase): Promise<NotificationRecord> {
    let jweKid: string | null = null;
    try {
      const jwe = await step('decrypt', () =>
        decryptCompactJwe(jws.jwe, this.#o.decryptionKeys, this.#jweAllow),
      );
      jweKid = jwe.kid;
      const { fields } = step('validate', () => validatePayload(base.eventType, jwe.plaintext));
      const ranges = this.#o.binRanges;
      if (
        ranges !== undefined &&
        fields.accountNumber !== null &&
        !binInRanges(fields.accountNumber, ranges)
      )
        throw new QuarantineError('BIN_NOT_ISSUER', "card number outside the issuer's ranges");
      const dp = this.#o.dataProtector;
      return step('protect', () =>
        makeRecord(
          this.#o.issuer,
          base,
          jws.kid,
          jweKid,
          fields,
          fields.accountNumber === null ? null : dp.protectPan(fields.accountNumber, base.dedupKey),
          dp.activeKeyId,
          dp.encrypt(jwe.plaintext, base.dedupKey),
          null,
        ),
      );
    } catch (error) {
      if (!(error instanceof QuarantineError)) throw error;
      return makeRecord(
        this.#o.issuer,
        base,
        jws.kid,
        jweKid,
        EMPTY_FIELDS,
        null,
        null,
        null,
        error,
      );
    }
  }
}

type RecordBase = Pick<
  NotificationRecord,
  'id' | 'dedupKey' | 'receivedAt' | 'tokenRequestorId' | 'eventType' | 'encryptedData'
>;

const EMPTY_FIELDS: PayloadFields = {
  tsp: null,
  firstName: null,
  lastName: null,
  contactEmail: null,
  phoneNumber: null,
  accountNumber: null,
};

/**
 * Every record is built here, in one object literal with its final values: one hidden class for
 * all of them, where spreading and patching a draft made V8 migrate object shapes per request.
 */
function makeRecord(
  issuer: string,
  base: RecordBase,
  jwsKid: string,
  jweKid: string | null,
  f: PayloadFields,
  pan: ProtectedPan | null,
  dataKeyId: string | null,
  payloadCiphertext: Buffer | null,
  quarantine: QuarantineError | null,
): NotificationRecord {
  return {
    id: base.id,
    issuer,
    dedupKey: base.dedupKey,
    receivedAt: base.receivedAt,
    tokenRequestorId: base.tokenRequestorId,
    eventType: base.eventType,
    status: quarantine === null ? 'accepted' : 'quarantined',
    reason: quarantine === null ? null : quarantine.code,
    reasonFields:
      quarantine === null || quarantine.fields.length === 0 ? null : [...quarantine.fields],
    jwsKid,
    jweKid,
    tsp: f.tsp,
    firstName: f.firstName,
    lastName: f.lastName,
    contactEmail: f.contactEmail,
    phoneNumber: f.phoneNumber,
    panFingerprint: pan === null ? null : pan.fingerprint,
    panBin: pan === null ? null : pan.bin,
    panLast4: pan === null ? null : pan.last4,
    panLuhnValid: pan === null ? null : pan.luhnValid,
    dataKeyId,
    panCiphertext: pan === null ? null : pan.ciphertext,
    payloadCiphertext,
    encryptedData: base.encryptedData,
  };
}

function toOutcome(stored: RecordOutcome, rec: NotificationRecord): PipelineOutcome {
  if (stored.status === 'accepted')
    return { kind: 'accepted', id: stored.id, result: stored.result };
  return {
    kind: 'quarantined',
    id: stored.id,
    code: (rec.reason ?? 'JWE_MALFORMED') as QuarantineCode,
    result: stored.result,
  };
}

/**
 * The HTTP body: `application/json`, a JSON object whose `encryptedData` is a string of at most
 * 7000 characters (Visa's page). Unknown members are ignored.
 * @throws RejectedError CONTENT_TYPE_INVALID | BODY_INVALID
 */
export function parseEnvelope(contentType: string | undefined, body: Buffer | undefined): string {
  const media = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (media !== 'application/json')
    throw new RejectedError('CONTENT_TYPE_INVALID', 'content type is not application/json');
  if (body === undefined || body.length === 0)
    throw new RejectedError('BODY_INVALID', 'empty body');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RejectedError('BODY_INVALID', 'body is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new RejectedError('BODY_INVALID', 'body is not an object');
  const data = (value as { encryptedData?: unknown }).encryptedData;
  if (typeof data !== 'string' || data.length === 0 || data.length > MAX_ENCRYPTED_DATA) {
    throw new RejectedError('BODY_INVALID', 'encryptedData missing, not a string or too long');
  }
  return data;
}
