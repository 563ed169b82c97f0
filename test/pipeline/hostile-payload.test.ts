import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { assertContract, InputCounter, runs } from '../support/hostile-checks.js';
import { registerSensitive, testPan } from '../support/personal-data.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

// Unicode, control characters and overlong strings in every payload field, signed and encrypted
// by Visa, so they reach validation and storage, on both databases. A 500 here would make Visa
// retry forever; a mangled value would store something other than what Visa sent. Each input's
// outcome is predicted by `expectedOutcome` below, the field rules written out again from
// Visa's page and the service's documented choices, not by calling the service's validator:
// status, quarantine reason, the field paths named, and every column stored.

const count = new InputCounter();

/** Hostile text: any code point, lone surrogates, C0/C1 controls, NUL, bidi overrides, overlong. */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      '\u0000',
      '\u0007',
      '\u001b',
      '\u007f',
      '\u0085',
      '\u2028',
      '\u202e',
      '\ufeff',
      '\ud800',
      '\udfff',
      'A',
      'é',
      '😀',
    ),
    maxLength: 30,
  }),
  fc.constantFrom(
    'J',
    'Jo',
    'x'.repeat(80),
    'x'.repeat(81),
    'y'.repeat(2000),
    "O'Brien; DROP TABLE notifications; --",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, sent as text
    '${jndi:ldap://127.0.0.1/a}',
    '<script>1</script>',
    '%s%n%x',
  ),
);
const anyValue = fc.oneof(hostileText, fc.jsonValue({ maxDepth: 2 }));

const field = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });

/** Hostile values in every field, and in place of every object. */
const hostilePayload = fc.record(
  {
    clientInformation: fc.oneof(
      fc.record(
        {
          firstName: field(anyValue),
          lastName: field(anyValue),
          phoneNumber: field(fc.oneof(anyValue, fc.stringMatching(/^[0-9().+-]{1,40}$/))),
          contactEmail: field(
            fc.oneof(
              anyValue,
              fc.emailAddress(),
              hostileText.map((t) => `${t}@example.org`),
            ),
          ),
        },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
    enrollment: fc.oneof(
      fc.record(
        {
          tsp: field(fc.oneof(fc.constantFrom('V', 'M1', 'X_2'), anyValue)),
          paymentInstrument: field(
            fc.oneof(
              fc.record({
                accountNumber: fc.oneof(fc.nat({ max: 10_000 }).map(testPan), anyValue),
              }),
              anyValue,
            ),
          ),
        },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
    extra: field(anyValue),
  },
  { requiredKeys: [] },
);

/** Strings of exactly one of `lengths` code units drawn from `unit`. */
const ofLength = (unit: fc.Arbitrary<string>, lengths: number[]) =>
  fc.constantFrom(...lengths).chain((n) => fc.string({ unit, minLength: n, maxLength: n }));
const chars = (s: string) => fc.constantFrom(...s);
/** `valid` with one of `intruders` inserted somewhere: a near miss of a pattern. */
const withIntruder = (valid: fc.Arbitrary<string>, intruders: string[]) =>
  fc.tuple(valid, fc.constantFrom(...intruders), fc.nat()).map(([v, x, at]) => {
    const i = at % (v.length + 1);
    return `${v.slice(0, i)}${x}${v.slice(i)}`;
  });
const DIGITS = '0123456789';
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

const nameUnit = chars(`${LETTERS}éßЖ '-`);
const validName = ofLength(nameUnit, [2, 3, 12, 79, 80]);
const nearName = fc.oneof(
  ofLength(nameUnit, [1]),
  ofLength(nameUnit, [0, 81]),
  withIntruder(validName, ['\u0000', '\u001b', '\u0085', '\ud800', '\udfff']),
);
const phoneUnit = chars(`${DIGITS}().+-`);
const validPhone = ofLength(phoneUnit, [1, 2, 12, 31, 32]);
const localUnit = chars(`${LETTERS}${DIGITS}._+-`);
// 36 + "@example.org" is 48 characters, the maximum.
const validEmail = ofLength(localUnit, [1, 10, 36]).map((l) => `${l}@example.org`);
const tspUnit = chars(`${LETTERS}${DIGITS}_-`);
const validTsp = fc.oneof(fc.constantFrom('V', 'M1', 'X_2'), ofLength(tspUnit, [1, 2, 15, 16]));
const validAccount = fc.oneof(
  fc.nat({ max: 10_000 }).map(testPan),
  ofLength(chars(DIGITS), [12, 13, 18, 19]),
);

/** Per field: values at its limits (accepted), and just past one of them (refused). */
const LIMITS = {
  firstName: [validName, nearName],
  lastName: [validName, nearName],
  phoneNumber: [
    validPhone,
    fc.oneof(
      ofLength(phoneUnit, [0]),
      ofLength(phoneUnit, [33]),
      withIntruder(validPhone, ['x', 'A', ' ', '/', '#', '\u0663']),
    ),
  ],
  contactEmail: [
    validEmail,
    fc.oneof(
      ofLength(localUnit, [37]).map((l) => `${l}@example.org`),
      fc
        .tuple(
          ofLength(localUnit, [1, 8]),
          fc.constantFrom('localhost', 'x.y', 'ex ample.org', 'example.', '.org'),
        )
        .map(([l, d]) => `${l}@${d}`),
      withIntruder(validEmail, [' ', '@', '\u0007', '\u2028', '\u00a0']),
    ),
  ],
  tsp: [validTsp, fc.oneof(ofLength(tspUnit, [0, 17]), withIntruder(validTsp, ['.', ' ', 'é']))],
  accountNumber: [
    validAccount,
    fc.oneof(ofLength(chars(DIGITS), [11, 20]), withIntruder(validAccount, [' ', '-', 'X'])),
  ],
} as const;
type LimitField = keyof typeof LIMITS;
const LIMIT_FIELDS = Object.keys(LIMITS) as LimitField[];
const pick = (i: 0 | 1) =>
  fc.record(
    Object.fromEntries(LIMIT_FIELDS.map((f) => [f, LIMITS[f][i]])) as Record<
      LimitField,
      fc.Arbitrary<string>
    >,
  );

/**
 * A payload valid at the limits, half the time with one field (now and then two) pushed just
 * past one, and up to two optional members left out: a rule moved by one character shows here.
 */
const limitPayload = fc
  .record({
    inside: pick(0),
    outside: pick(1),
    broken: fc.oneof(
      { weight: 4, arbitrary: fc.constant<LimitField[]>([]) },
      { weight: 3, arbitrary: fc.constantFrom(...LIMIT_FIELDS).map((f) => [f]) },
      { weight: 1, arbitrary: fc.subarray(LIMIT_FIELDS, { minLength: 2, maxLength: 2 }) },
    ),
    absent: fc.subarray(
      ['firstName', 'lastName', 'phoneNumber', 'contactEmail', 'paymentInstrument'] as const,
      { maxLength: 2 },
    ),
  })
  .map(({ inside, outside, broken, absent }) => {
    const v = (f: LimitField) => (broken.includes(f) ? outside[f] : inside[f]);
    const clientInformation: Record<string, string> = {};
    for (const f of ['firstName', 'lastName', 'phoneNumber', 'contactEmail'] as const)
      if (!absent.includes(f)) clientInformation[f] = v(f);
    return {
      clientInformation,
      enrollment: {
        tsp: v('tsp'),
        ...(absent.includes('paymentInstrument')
          ? {}
          : { paymentInstrument: { accountNumber: v('accountNumber') } }),
      },
    } as Record<string, unknown>;
  });

const payload = fc.oneof(hostilePayload, limitPayload);

type Columns = {
  tsp: string | null;
  firstName: string | null;
  lastName: string | null;
  contactEmail: string | null;
  phoneNumber: string | null;
  panLast4: string | null;
};
type Expected = { status: 200; columns: Columns } | { status: 400; fields: string[] };

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Text stored and shown as sent: well-formed UTF-16 (a lone surrogate would come back as
 * U+FFFD) and no control character (Unicode Cc: C0, DEL, C1; PostgreSQL refuses NUL).
 */
function storable(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return false;
    if (c >= 0xdc00 && c <= 0xdfff) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

const text = (v: unknown, min: number, max: number, pattern?: RegExp): v is string =>
  typeof v === 'string' &&
  v.length >= min &&
  v.length <= max &&
  storable(v) &&
  (pattern === undefined || pattern.test(v));

/**
 * What the service must do with `sent` (the payload as Visa's JSON carries it), per Visa's page
 * for CTP_ENROLLMENT_ATTEMPT: names 2–80 characters; phone at most 32 of 0-9 ( ) . - +; email at
 * most 48; tsp required (a short code: letters, digits, _ and -, at most 16, the list not being
 * public); accountNumber 12–19 digits, required when tsp is V. Other event types are accepted
 * as any object, each field read when it is storable text within the same maximum.
 */
function expectedOutcome(sent: Record<string, unknown>, eventType: string): Expected {
  const ci = sent.clientInformation;
  const en = sent.enrollment;
  const pi = isObject(en) ? en.paymentInstrument : undefined;
  const pan = isObject(pi) ? pi.accountNumber : undefined;
  if (eventType !== 'CTP_ENROLLMENT_ATTEMPT') {
    const c = isObject(ci) ? ci : {};
    const read = (v: unknown, max: number) => (text(v, 0, max) ? v : null);
    return {
      status: 200,
      columns: {
        tsp: read(isObject(en) ? en.tsp : undefined, 16),
        firstName: read(c.firstName, 80),
        lastName: read(c.lastName, 80),
        contactEmail: read(c.contactEmail, 48),
        phoneNumber: read(c.phoneNumber, 32),
        panLast4: typeof pan === 'string' && /^[0-9]{12,19}$/.test(pan) ? pan.slice(-4) : null,
      },
    };
  }
  const fields: string[] = [];
  const optional = (path: string, v: unknown, ok: (v: unknown) => boolean) => {
    if (v !== undefined && !ok(v)) fields.push(path);
  };
  if (!isObject(ci)) fields.push('/clientInformation');
  else {
    optional('/clientInformation/firstName', ci.firstName, (v) => text(v, 2, 80));
    optional('/clientInformation/lastName', ci.lastName, (v) => text(v, 2, 80));
    optional('/clientInformation/phoneNumber', ci.phoneNumber, (v) =>
      text(v, 1, 32, /^[0-9().+-]+$/),
    );
    // One @, a dot inside the domain, no white space (the service's practical address check).
    optional('/clientInformation/contactEmail', ci.contactEmail, (v) =>
      text(v, 0, 48, /^[^\s@]+@[^\s@]+\.[^\s@]+$/),
    );
  }
  if (!isObject(en)) fields.push('/enrollment');
  else {
    if (!text(en.tsp, 1, 16, /^[A-Za-z0-9_-]+$/)) fields.push('/enrollment/tsp');
    if (pi !== undefined && !isObject(pi)) fields.push('/enrollment/paymentInstrument');
    if (isObject(pi) && !(typeof pan === 'string' && /^[0-9]{12,19}$/.test(pan)))
      fields.push('/enrollment/paymentInstrument/accountNumber');
  }
  if (fields.length > 0) return { status: 400, fields };
  const c = ci as Record<string, string | undefined>;
  const e = en as { tsp: string };
  if (e.tsp === 'V' && pi === undefined)
    return { status: 400, fields: ['/enrollment/paymentInstrument'] };
  return {
    status: 200,
    columns: {
      tsp: e.tsp,
      firstName: c.firstName ?? null,
      lastName: c.lastName ?? null,
      contactEmail: c.contactEmail ?? null,
      phoneNumber: c.phoneNumber ?? null,
      panLast4: typeof pan === 'string' ? pan.slice(-4) : null,
    },
  };
}

/**
 * Registers the name, email, phone and card number sent, for the suite's log scan (which reads
 * every test's logs). Short or repetitive values ("00000000", "aaaaaaaa") are left out: such
 * text turns up in logs by chance.
 */
function registerSent(sent: Record<string, unknown>): void {
  const ci = isObject(sent.clientInformation) ? sent.clientInformation : {};
  const pi = isObject(sent.enrollment) ? sent.enrollment.paymentInstrument : undefined;
  const values = [ci.firstName, ci.lastName, ci.contactEmail, ci.phoneNumber];
  if (isObject(pi)) values.push(pi.accountNumber);
  for (const v of values)
    if (typeof v === 'string' && v.length >= 8 && new Set(v).size >= 5) registerSensitive(v);
}

for (const dialect of await dialects()) {
  describe(`hostile payload fields on ${dialect.name}`, () => {
    let db: TestDatabase;
    let s: TestServer;

    before(async () => {
      db = await dialect.create();
      s = await startTestServer(await testPki(), { storageUrl: db.url });
    });
    after(async () => {
      await s?.close();
      await db?.drop();
    });

    it('every value gets exactly the predicted outcome: stored as sent (200) or quarantined with the broken fields named (400); never 500', async () => {
      const seen = new Set<string>();
      const verdicts = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(
          payload,
          fc.constantFrom('CTP_ENROLLMENT_ATTEMPT', 'CTP_ENROLLMENT_UPDATE'),
          async (p, eventType) => {
            count.add(`payloads on ${dialect.name}`);
            const encryptedData = await s.encode(p);
            fc.pre(encryptedData.length <= 7000);
            // What the decrypted JSON holds (undefined members dropped, -0 read as 0).
            const sent = JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
            registerSent(sent);
            const want = expectedOutcome(sent, eventType);
            const what = `${eventType} ${JSON.stringify(p).slice(0, 300)}`;
            const res = await s.post(
              { encryptedData },
              { query: `eventType=${eventType}`, xPayToken: false },
            );
            count.answered(res.status);
            assertContract(res, [want.status], what);
            const verdict = `${eventType} ${want.status}`;
            verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
            const key = createHash('sha256').update(encryptedData).digest('base64url');
            seen.add(key);
            const stored = await s.runtime.store.findByDedupKey(key);
            assert.ok(stored, 'signed by Visa: always kept, accepted or quarantined');
            const row = (await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 20 })).find(
              (r) => r.id === stored.id,
            );
            assert.ok(row);
            if (want.status === 400) {
              assert.deepEqual(
                [row.status, row.reason, [...(row.reasonFields ?? [])].sort()],
                ['quarantined', 'PAYLOAD_INVALID', [...want.fields].sort()],
                what,
              );
              return;
            }
            assert.deepEqual([row.status, row.reason, row.reasonFields], ['accepted', null, null]);
            assert.deepEqual(
              {
                tsp: row.tsp,
                firstName: row.firstName,
                lastName: row.lastName,
                contactEmail: row.contactEmail,
                phoneNumber: row.phoneNumber,
                panLast4: row.panLast4,
              },
              want.columns,
              `stored as sent: ${what}`,
            );
          },
        ),
        { numRuns: runs(400) },
      );
      const rows = await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 100_000 });
      assert.equal(rows.length, seen.size);
      process.stdout.write(`# hostile payloads: ${count}; ${JSON.stringify([...verdicts])}\n`);
      // Both verdicts on both kinds of event, often enough that a rule moved either way shows.
      for (const v of [
        'CTP_ENROLLMENT_ATTEMPT 200',
        'CTP_ENROLLMENT_ATTEMPT 400',
        'CTP_ENROLLMENT_UPDATE 200',
      ])
        assert.ok((verdicts.get(v) ?? 0) >= runs(400) / 40, `${v}: ${verdicts.get(v) ?? 0}`);
    });
  });
}
