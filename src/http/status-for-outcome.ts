import type { ErrorCode } from '../errors.js';
import type { PipelineOutcome } from '../pipeline/notification-pipeline.js';

/**
 * The one place error codes become HTTP statuses on the Visa route (Visa's page lists 200,
 * 400, 401, 404, 500; 500 is the one Visa retries).
 */
const STATUS: Record<ErrorCode, 400 | 401 | 404 | 500> = {
  ROUTE_NOT_FOUND: 404,
  TOKEN_REQUESTOR_UNKNOWN: 404,
  EVENT_TYPE_INVALID: 400,
  CONTENT_TYPE_INVALID: 400,
  BODY_INVALID: 400,
  BODY_TOO_LARGE: 400,
  CLIENT_CERT_MISSING: 401,
  CLIENT_CERT_UNTRUSTED: 401,
  CLIENT_CERT_NOT_PINNED: 401,
  X_PAY_TOKEN_MISSING: 401,
  X_PAY_TOKEN_INVALID: 401,
  X_PAY_TOKEN_STALE: 401,
  JWS_MALFORMED: 400,
  JWS_ALG_NOT_ALLOWED: 401,
  JWS_KID_UNKNOWN: 401,
  JWS_SIGNATURE_INVALID: 401,
  JWS_CRIT_UNSUPPORTED: 401,
  JWE_MALFORMED: 400,
  JWE_ALG_NOT_ALLOWED: 400,
  // Visa retries 500: once the operator installs the key, the retry is accepted.
  JWE_KID_UNKNOWN: 500,
  JWE_DECRYPTION_FAILED: 400,
  PAYLOAD_NOT_JSON: 400,
  PAYLOAD_INVALID: 400,
  // Not this issuer's card: kept for an operator, no retry to ask for.
  BIN_NOT_ISSUER: 400,
  // Admission control: answered at once, nothing stored; Visa retries 500.
  OVERLOADED: 500,
  STORAGE_UNAVAILABLE: 500,
  // The token will be back (the process reopens its sessions): Visa's retry succeeds then.
  KEY_UNAVAILABLE: 500,
  CONFIG_INVALID: 500,
  INTERNAL: 500,
};

export function statusForCode(code: ErrorCode): 400 | 401 | 404 | 500 {
  return STATUS[code];
}

export function statusForOutcome(outcome: PipelineOutcome): 200 | 400 | 401 | 404 | 500 {
  return outcome.kind === 'accepted' ? 200 : STATUS[outcome.code];
}
