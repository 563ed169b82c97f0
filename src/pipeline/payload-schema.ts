import { FormatRegistry, Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

// A practical address check (one @, a dotted domain, no spaces or controls); RFC 5322 in full
// accepts forms no card enroller uses.
const EMAIL = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;
if (!FormatRegistry.Has('email')) FormatRegistry.Set('email', (v) => EMAIL.test(v));

/**
 * The decrypted payload of CTP_ENROLLMENT_ATTEMPT, field rules as on Visa's page. Unknown
 * members are allowed (kept, encrypted, with the notification): Visa may add fields.
 */
export const EnrollmentAttemptPayload = Type.Object({
  clientInformation: Type.Object({
    firstName: Type.Optional(Type.String({ minLength: 2, maxLength: 80 })),
    lastName: Type.Optional(Type.String({ minLength: 2, maxLength: 80 })),
    phoneNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[0-9().+-]+$' })),
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
