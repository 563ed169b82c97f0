/**
 * The service's error vocabulary. Every failure the pipeline can report carries a stable
 * `code`; the HTTP status for each code is decided in one place (`http/status-for-outcome.ts`).
 *
 * Messages are fixed strings chosen by us: they never interpolate request data, so an error
 * can be logged or thrown across a boundary without carrying a card number, a name, an email
 * or a phone number with it.
 */

/** Request rejected before it was authenticated or understood (nothing is stored). */
export type RejectCode =
  | 'ROUTE_NOT_FOUND'
  | 'TOKEN_REQUESTOR_UNKNOWN'
  | 'EVENT_TYPE_INVALID'
  | 'CONTENT_TYPE_INVALID'
  | 'BODY_INVALID'
  | 'BODY_TOO_LARGE'
  | 'CLIENT_CERT_MISSING'
  | 'CLIENT_CERT_UNTRUSTED'
  | 'CLIENT_CERT_NOT_PINNED'
  | 'X_PAY_TOKEN_MISSING'
  | 'X_PAY_TOKEN_INVALID'
  | 'X_PAY_TOKEN_STALE'
  | 'JWS_MALFORMED'
  | 'JWS_ALG_NOT_ALLOWED'
  | 'JWS_KID_UNKNOWN'
  | 'JWS_SIGNATURE_INVALID'
  | 'JWS_CRIT_UNSUPPORTED';

/** Signed by Visa but unusable: the notification is kept, quarantined with this reason. */
export type QuarantineCode =
  | 'JWE_MALFORMED'
  | 'JWE_ALG_NOT_ALLOWED'
  | 'JWE_KID_UNKNOWN'
  | 'JWE_DECRYPTION_FAILED'
  | 'PAYLOAD_NOT_JSON'
  | 'PAYLOAD_INVALID'
  // The card number is outside the ranges of the issuer whose endpoint was called.
  | 'BIN_NOT_ISSUER';

export type ErrorCode =
  | RejectCode
  | QuarantineCode
  // Refused by admission control before any work: Visa retries (src/http/admission.ts).
  | 'OVERLOADED'
  | 'STORAGE_UNAVAILABLE'
  | 'KEY_UNAVAILABLE'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

/** Base class: a fixed message and a stable code. */
export class CtpError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The request is refused and nothing is stored (route, authentication, envelope, JWS). */
export class RejectedError extends CtpError {
  declare readonly code: RejectCode;
  constructor(code: RejectCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The JWS verified, so the message is Visa's, but it cannot be used: keep it, quarantined. */
export class QuarantineError extends CtpError {
  declare readonly code: QuarantineCode;
  /** Field paths (never values) that broke the payload rules, for operators. */
  readonly fields: readonly string[];
  constructor(
    code: QuarantineCode,
    message: string,
    fields: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.fields = fields;
  }
}

/** The store could not commit; the caller must not acknowledge. */
export class StorageError extends CtpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_UNAVAILABLE', message, options);
  }
}

/**
 * The key is in a token (HSM) that cannot be used right now: unreachable, sessions closed, logged
 * out. Nothing is stored and the caller must not acknowledge; `tokenCode` is the PKCS#11 return
 * value's name (e.g. `CKR_SESSION_HANDLE_INVALID`) for on-call, never key material.
 */
export class KeyUnavailableError extends CtpError {
  readonly tokenCode: string;
  constructor(tokenCode: string, options?: { cause?: unknown }) {
    super('KEY_UNAVAILABLE', 'the token holding the key is unavailable', options);
    this.tokenCode = tokenCode;
  }
}

/** Configuration is missing or wrong; `field` names it (a JSON pointer such as `/listen/port`). */
export class ConfigError extends CtpError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', `config ${field || '/'}: ${message}`, options);
    this.field = field;
  }
}
