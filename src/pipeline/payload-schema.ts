import { FormatRegistry, type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

// A practical address check (one @, a dotted domain, no spaces or controls); RFC 5322 in full
// accepts forms no card enroller uses.
const EMAIL = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;
// Text a database can hold and an operator can read as sent: no control characters (PostgreSQL
// refuses NUL in text; C0/C1 controls have no place in a name) and no lone surrogates (not
// Unicode: both drivers would store U+FFFD instead, silently changing what Visa sent).
const NOT_STORABLE = /[\p{Cc}\p{Cs}]/u;
/** True when `v` is well-formed Unicode without control characters. */
export const isStorableText = (v: string): boolean => !NOT_STORABLE.test(v);
if (!FormatRegistry.Has('text')) FormatRegistry.Set('text', isStorableText);
if (!FormatRegistry.Has('email'))
  FormatRegistry.Set('email', (v) => EMAIL.test(v) && isStorableText(v));

/**
 * The decrypted payload of CTP_ENROLLMENT_ATTEMPT, field rules as on Visa's page. Unknown
 * members are allowed (kept, encrypted, with the notification): Visa may add fields.
 */
export const EnrollmentAttemptPayload = Type.Object({
  clientInformation: Type.Object({
    firstName: Type.Optional(Type.String({ minLength: 2, maxLength: 80, format: 'text' })),
    lastName: Type.Optional(Type.String({ minLength: 2, maxLength: 80, format: 'text' })),
    phoneNumber: Type.Optional(
      Type.String({ minLength: 1, maxLength: 32, pattern: '^[0-9().+-]+$' }),
    ),
    contactEmail: Type.Optional(Type.String({ maxLength: 48, format: 'email' })),
  }),
  enrollment: Type.Object({
    // The list of TSP codes is not public: accept any short code; "V" is Visa's own.
    tsp: Type.String({ minLength: 1, maxLength: 16, pattern: '^[A-Za-z0-9_-]+$' }),
    paymentInstrument: Type.Optional(
      Type.Object({ accountNumber: Type.String({ pattern: '^[0-9]{12,19}$' }) }),
    ),
  }),
});
export type EnrollmentAttemptPayload = Static<typeof EnrollmentAttemptPayload>;

export const enrollmentAttemptChecker = TypeCompiler.Compile(EnrollmentAttemptPayload);
