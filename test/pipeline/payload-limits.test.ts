import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ALL_ISSUERS } from '../../src/domain/issuer-scope.js';
import { dialects, type TestDatabase } from '../support/databases.js';
import { enrollmentPayload, registerSensitive, testPan } from '../support/personal-data.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

// Every limit of every payload field, one value just inside it and one just outside, through
// the whole path (Visa-side encoder, HTTP, verify, decrypt, validate, store) on each database.
// The limits are Visa's page ("Unencrypted Payload"): firstName and lastName 2–80 characters,
// phoneNumber at most 32 of 0-9 ( ) . - +, contactEmail at most 48, accountNumber at most 19;
// and the service's own where the page says nothing (src/pipeline/payload-schema.ts): text
// without control characters or lone surrogates, an address with one @ and a dotted domain,
// tsp a short code, accountNumber at least 12 digits (ISO/IEC 7812-1). A limit moved by one
// fails a row.

const PAN = testPan(91_001);
const ci = (field: string) => `/clientInformation/${field}`;
const TSP = '/enrollment/tsp';
const ACCOUNT = '/enrollment/paymentInstrument/accountNumber';

interface Row {
  /** What the row is about, for the test's name. */
  what: string;
  payload: () => Record<string, unknown>;
  /** undefined: accepted (200, stored as sent); otherwise the field path PAYLOAD_INVALID names. */
  rejects?: string;
  /** The stored column and its expected value, for accepted rows. */
  stored?: [keyof StoredColumns, string | null];
}

type StoredColumns = {
  firstName: string | null;
  lastName: string | null;
  phoneNumber: string | null;
  contactEmail: string | null;
  tsp: string | null;
  panLast4: string | null;
};

/** A valid payload with one clientInformation field set to `value`. */
const withClient =
  (field: string, value: unknown): Row['payload'] =>
  () =>
    enrollmentPayload({ clientInformation: { [field]: value } });

/** Rows for a clientInformation text field's length limits and its storable-text rule. */
function nameRows(field: 'firstName' | 'lastName'): Row[] {
  const row = (what: string, value: string, ok: boolean): Row => ({
    what: `${field}: ${what}`,
    payload: withClient(field, value),
    ...(ok ? { stored: [field, value] } : { rejects: ci(field) }),
  });
  return [
    row('2 characters (the minimum)', 'Li', true),
    row('1 character (below the minimum of 2)', 'L', false),
    row('empty', '', false),
    row('80 characters (the maximum)', 'N'.repeat(80), true),
    row('81 characters (above the maximum of 80)', 'N'.repeat(81), false),
    row('80 accented characters: characters are counted, not UTF-8 bytes', 'é'.repeat(80), true),
    row('punctuation, accents and spaces', "Zoë O'Brien-Núñez", true),
    row('a NUL inside', 'Ann\u0000e', false),
    row('a C1 control inside', 'Ann\u0085e', false),
    row('a lone surrogate inside', 'Ann\ud800e', false),
    {
      what: `${field}: a number instead of a string`,
      payload: withClient(field, 42),
      rejects: ci(field),
    },
  ];
}

const phone = (what: string, value: string, ok: boolean): Row => ({
  what: `phoneNumber: ${what}`,
  payload: withClient('phoneNumber', value),
  ...(ok ? { stored: ['phoneNumber', value] } : { rejects: ci('phoneNumber') }),
});

const email = (what: string, value: string, ok: boolean): Row => ({
  what: `contactEmail: ${what}`,
  payload: withClient('contactEmail', value),
  ...(ok ? { stored: ['contactEmail', value] } : { rejects: ci('contactEmail') }),
});

const tsp = (what: string, value: string, ok: boolean): Row => ({
  what: `tsp: ${what}`,
  payload: () => enrollmentPayload({ tsp: value }),
  ...(ok ? { stored: ['tsp', value] } : { rejects: TSP }),
});

const account = (what: string, value: string, ok: boolean): Row => ({
  what: `accountNumber: ${what}`,
  payload: () => {
    registerSensitive(value);
    return enrollmentPayload({ accountNumber: value });
  },
  ...(ok ? { stored: ['panLast4', value.slice(-4)] } : { rejects: ACCOUNT }),
});

const ROWS: Row[] = [
  ...nameRows('firstName'),
  ...nameRows('lastName'),
  phone('1 character (the minimum)', '7', true),
  phone('empty (below the minimum of 1)', '', false),
  phone('32 characters (the maximum)', `+${'4'.repeat(31)}`, true),
  phone('33 characters (above the maximum of 32)', `+${'4'.repeat(32)}`, false),
  phone('every allowed character: 0-9 ( ) . - +', '+44(0)123.456-7890', true),
  phone('a letter (x for an extension)', '+447700900123x1', false),
  phone('a capital letter', '+44770090012A', false),
  phone('a space', '+44 7700900123', false),
  phone('a slash', '+44/7700900123', false),
  phone('a hash', '+447700900123#', false),
  email('48 characters (the maximum)', `${'m'.repeat(36)}@example.org`, true),
  email('49 characters (above the maximum of 48)', `${'m'.repeat(37)}@example.org`, false),
  email('the shortest address: a@b.c', 'a@b.c', true),
  email('no dot in the domain', 'mail@localhost', false),
  email('no local part', '@example.org', false),
  email('two @', 'mail@host@example.org', false),
  email('a space', 'mail box@example.org', false),
  email('a control character', 'mail\u0007box@example.org', false),
  email('empty', '', false),
  tsp('1 character (the minimum)', 'M', true),
  tsp('empty (below the minimum of 1)', '', false),
  tsp('16 characters (the maximum)', `T${'0'.repeat(15)}`, true),
  tsp('17 characters (above the maximum of 16)', `T${'0'.repeat(16)}`, false),
  tsp('letters, digits, _ and -', 'aZ09_-', true),
  tsp('a space', 'M 1', false),
  tsp('a dot', 'M.1', false),
  account('12 digits (the minimum)', PAN.slice(0, 12), true),
  account('11 digits (below the minimum of 12)', PAN.slice(0, 11), false),
  account('19 digits (the maximum)', `${PAN}123`, true),
  account('20 digits (above the maximum of 19)', `${PAN}1234`, false),
  account('spaces between the groups', PAN.replace(/(\d{4})(?=\d)/g, '$1 '), false),
  account('a letter', `${PAN.slice(0, 15)}X`, false),
  {
    what: 'paymentInstrument: absent with tsp V (the page: populated if tsp is V)',
    payload: () => ({ clientInformation: {}, enrollment: { tsp: 'V' } }),
    rejects: '/enrollment/paymentInstrument',
  },
  {
    what: 'paymentInstrument: absent with another tsp',
    payload: () => ({ clientInformation: {}, enrollment: { tsp: 'M1' } }),
    stored: ['tsp', 'M1'],
  },
  {
    what: 'clientInformation: every member absent',
    payload: () => ({ clientInformation: {}, enrollment: { tsp: 'M2' } }),
    stored: ['firstName', null],
  },
  {
    what: 'clientInformation: absent',
    payload: () => ({ enrollment: { tsp: 'M3' } }),
    rejects: '/clientInformation',
  },
  {
    what: 'enrollment: absent',
    payload: () => ({ clientInformation: {} }),
    rejects: '/enrollment',
  },
  {
    what: 'tsp: absent',
    payload: () => ({ clientInformation: {}, enrollment: {} }),
    rejects: TSP,
  },
];

// Other event types are not public: any JSON object is accepted, and a field is read only
// within the same length limits and as storable text (validate-payload.ts); beyond them the
// column stays empty and the value is kept only in the encrypted payload.
type LenientRow = { what: string; payload: () => Record<string, unknown>; stored: Row['stored'] };
const LENIENT: LenientRow[] = (
  [
    ['firstName', 'F', 80],
    ['lastName', 'L', 80],
    ['phoneNumber', '4', 32],
    ['contactEmail', 'e', 48],
  ] as const
).flatMap(([field, ch, max]): LenientRow[] => {
  const at = ch.repeat(max);
  const over = `${at}${ch}`;
  return [
    {
      what: `${field}: ${max} characters, read`,
      payload: withClient(field, at),
      stored: [field, at],
    },
    {
      what: `${field}: ${max + 1} characters, not read`,
      payload: withClient(field, over),
      stored: [field, null],
    },
  ];
});
LENIENT.push(
  {
    what: 'firstName: a control character, not read',
    payload: withClient('firstName', 'Ann\u0000e'),
    stored: ['firstName', null],
  },
  {
    what: 'tsp: 16 characters, read',
    payload: () => enrollmentPayload({ tsp: `U${'1'.repeat(15)}` }),
    stored: ['tsp', `U${'1'.repeat(15)}`],
  },
  {
    what: 'tsp: 17 characters, not read',
    payload: () => enrollmentPayload({ tsp: `U${'1'.repeat(16)}` }),
    stored: ['tsp', null],
  },
  ...(
    [
      [PAN.slice(0, 12), true],
      [PAN.slice(0, 11), false],
      [`${PAN}987`, true],
      [`${PAN}9876`, false],
    ] as const
  ).map(
    ([value, read]): LenientRow => ({
      what: `accountNumber: ${value.length} digits, ${read ? 'read' : 'not read'}`,
      payload: () => {
        registerSensitive(value);
        return enrollmentPayload({ accountNumber: value });
      },
      stored: ['panLast4', read ? value.slice(-4) : null],
    }),
  ),
);

for (const dialect of await dialects()) {
  describe(`payload field limits on ${dialect.name}`, () => {
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

    /** Sends as Visa; returns the status and the row stored for exactly this message. */
    const send = async (payload: Record<string, unknown>, eventType: string) => {
      const encryptedData = await s.encode(payload);
      const res = await s.post(
        { encryptedData },
        { query: `eventType=${eventType}`, xPayToken: false },
      );
      assert.equal(res.body, '');
      const dedupKey = createHash('sha256').update(encryptedData).digest('base64url');
      const found = await s.runtime.store.findByDedupKey(dedupKey);
      assert.ok(found, 'signed by Visa: kept, accepted or quarantined');
      const row = (await s.runtime.store.list({ scope: ALL_ISSUERS, limit: 5 })).find(
        (r) => r.id === found.id,
      );
      assert.ok(row, 'the newest rows include it');
      return { status: res.status, row };
    };

    for (const r of ROWS) {
      const expect = r.rejects === undefined ? '200, stored as sent' : `400 ${r.rejects}`;
      it(`CTP_ENROLLMENT_ATTEMPT ${r.what} → ${expect}`, async () => {
        const { status, row } = await send(r.payload(), 'CTP_ENROLLMENT_ATTEMPT');
        if (r.rejects !== undefined) {
          assert.deepEqual(
            [status, row.status, row.reason, row.reasonFields],
            [400, 'quarantined', 'PAYLOAD_INVALID', [r.rejects]],
          );
        } else {
          assert.deepEqual([status, row.status, row.reason], [200, 'accepted', null]);
          const [column, value] = r.stored!;
          assert.equal(row[column], value, `${column} stored as sent`);
        }
      });
    }

    for (const r of LENIENT) {
      it(`another event type, ${r.what}`, async () => {
        const { status, row } = await send(r.payload(), 'CTP_ENROLLMENT_UPDATE');
        assert.deepEqual([status, row.status, row.reason], [200, 'accepted', null]);
        const [column, value] = r.stored!;
        assert.equal(row[column], value, column);
      });
    }
  });
}
