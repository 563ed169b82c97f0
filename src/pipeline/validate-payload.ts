import { QuarantineError } from '../errors.js';
import {
  type EnrollmentAttemptPayload,
  enrollmentAttemptChecker,
  isStorableText,
} from './payload-schema.js';

export const ENROLLMENT_ATTEMPT = 'CTP_ENROLLMENT_ATTEMPT';

/** The fields the service reads out of a payload; everything else stays in the encrypted copy. */
export interface PayloadFields {
  tsp: string | null;
  firstName: string | null;
  lastName: string | null;
  contactEmail: string | null;
  phoneNumber: string | null;
  accountNumber: string | null;
}

/**
 * Parses and checks a decrypted payload.
 *
 * CTP_ENROLLMENT_ATTEMPT must satisfy the page's field rules, and `paymentInstrument` is
 * required when `tsp` is "V". Other event types are not public: any JSON object is accepted and
 * the same fields are read where they are present and well-formed.
 *
 * @throws QuarantineError PAYLOAD_NOT_JSON | PAYLOAD_INVALID (with field paths, never values)
 */
export function validatePayload(
  eventType: string,
  plaintext: Buffer,
): { fields: PayloadFields; payload: Record<string, unknown> } {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw new QuarantineError('PAYLOAD_NOT_JSON', 'decrypted payload is not JSON');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new QuarantineError('PAYLOAD_INVALID', 'decrypted payload is not an object', ['']);
  }
  const obj = payload as Record<string, unknown>;
  if (eventType !== ENROLLMENT_ATTEMPT) return { fields: lenientFields(obj), payload: obj };

  if (!enrollmentAttemptChecker.Check(obj)) {
    const fields = [...new Set([...enrollmentAttemptChecker.Errors(obj)].map((e) => e.path))].slice(
      0,
      10,
    );
    throw new QuarantineError('PAYLOAD_INVALID', 'payload breaks the field rules', fields);
  }
  const p = obj as EnrollmentAttemptPayload;
  if (p.enrollment.tsp === 'V' && p.enrollment.paymentInstrument === undefined) {
    throw new QuarantineError('PAYLOAD_INVALID', 'paymentInstrument is required when tsp is V', [
      '/enrollment/paymentInstrument',
    ]);
  }
  return {
    fields: {
      tsp: p.enrollment.tsp,
      firstName: p.clientInformation.firstName ?? null,
      lastName: p.clientInformation.lastName ?? null,
      contactEmail: p.clientInformation.contactEmail ?? null,
      phoneNumber: p.clientInformation.phoneNumber ?? null,
      accountNumber: p.enrollment.paymentInstrument?.accountNumber ?? null,
    },
    payload: obj,
  };
}

function lenientFields(obj: Record<string, unknown>): PayloadFields {
  const ci = asObject(obj.clientInformation);
  const en = asObject(obj.enrollment);
  const pi = asObject(en?.paymentInstrument);
  const str = (v: unknown, max: number) =>
    typeof v === 'string' && v.length <= max && isStorableText(v) ? v : null;
  const pan = pi?.accountNumber;
  return {
    tsp: str(en?.tsp, 16),
    firstName: str(ci?.firstName, 80),
    lastName: str(ci?.lastName, 80),
    contactEmail: str(ci?.contactEmail, 48),
    phoneNumber: str(ci?.phoneNumber, 32),
    accountNumber: typeof pan === 'string' && /^[0-9]{12,19}$/.test(pan) ? pan : null,
  };
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
