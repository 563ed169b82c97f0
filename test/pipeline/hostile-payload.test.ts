import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { dialects, type TestDatabase } from '../support/databases.js';
import { assertContract, InputCounter, runs } from '../support/hostile-checks.js';
import { testPan } from '../support/personal-data.js';
import { startTestServer, type TestServer } from '../support/server-harness.js';
import { testPki } from '../support/test-pki.js';

// Unicode, control characters and overlong strings in every payload field, signed and encrypted
// by Visa, so they reach validation and storage, on both databases. A 500 here would make Visa
// retry forever; a mangled value would store something other than what Visa sent.

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

const payload = fc.record(
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

    it('every value is either stored exactly as sent (200) or quarantined (400); never 500', async () => {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(
          payload,
          fc.constantFrom('CTP_ENROLLMENT_ATTEMPT', 'CTP_ENROLLMENT_UPDATE'),
          async (p, eventType) => {
            count.add(`payloads on ${dialect.name}`);
            const encryptedData = await s.encode(p);
            fc.pre(encryptedData.length <= 7000);
            const res = await s.post(
              { encryptedData },
              { query: `eventType=${eventType}`, xPayToken: false },
            );
            count.answered(res.status);
            assertContract(res, [200, 400], `payload ${JSON.stringify(p).slice(0, 300)}`);
            const key = createHash('sha256').update(encryptedData).digest('base64url');
            seen.add(key);
            const stored = await s.runtime.store.findByDedupKey(key);
            assert.ok(stored, 'signed by Visa: always kept, accepted or quarantined');
            assert.equal(stored.status, res.status === 200 ? 'accepted' : 'quarantined');
            if (res.status !== 200) return;
            const row = (await s.runtime.store.list({ limit: 20 })).find((r) => r.id === stored.id);
            assert.ok(row);
            const ci = (p.clientInformation ?? {}) as Record<string, unknown>;
            for (const [k, column] of [
              ['firstName', row.firstName],
              ['lastName', row.lastName],
              ['contactEmail', row.contactEmail],
              ['phoneNumber', row.phoneNumber],
            ] as const) {
              const sent = ci[k];
              // Stored as sent, or (for other event types, read leniently) not read at all.
              if (column !== null) assert.equal(column, sent, `${k} stored exactly as sent`);
              if (eventType === 'CTP_ENROLLMENT_ATTEMPT')
                assert.equal(column, typeof sent === 'string' ? sent : null, k);
            }
          },
        ),
        { numRuns: runs(250) },
      );
      const rows = await s.runtime.store.list({ limit: 100_000 });
      assert.equal(rows.length, seen.size);
      process.stdout.write(`# hostile payloads: ${count}\n`);
    });
  });
}
