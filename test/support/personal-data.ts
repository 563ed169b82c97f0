import assert from 'node:assert/strict';
import { luhnValid } from '../../src/protect/data-protector.js';

/** Every card number, name, email and phone a test put in a payload: none may reach a log. */
const sensitive = new Set<string>();

export function registerSensitive(...values: (string | undefined | null)[]): void {
  for (const v of values) if (v && v.length >= 4) sensitive.add(v);
}

let counter = 0;

/** A distinct, realistic payload whose personal values are registered for the log scan. */
export function enrollmentPayload(
  overrides: {
    accountNumber?: string;
    tsp?: string;
    clientInformation?: Record<string, unknown>;
  } = {},
): Record<string, unknown> {
  const n = ++counter;
  const accountNumber = overrides.accountNumber ?? testPan(n);
  const ci = {
    firstName: `Amelie${n}`,
    lastName: `Dubois${n}`,
    phoneNumber: `+4479460${String(n).padStart(5, '0')}`,
    contactEmail: `amelie.${n}@example.org`,
    ...overrides.clientInformation,
  };
  registerSensitive(
    accountNumber,
    String(ci.firstName),
    String(ci.lastName),
    String(ci.phoneNumber),
    String(ci.contactEmail),
  );
  return {
    clientInformation: ci,
    enrollment: { tsp: overrides.tsp ?? 'V', paymentInstrument: { accountNumber } },
  };
}

/** A 16-digit Luhn-valid card number in Visa's range, distinct per `n`. */
export function testPan(n: number): string {
  const body = `4${String(n * 7919 + 100000).padStart(14, '0')}`.slice(0, 15);
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

const WORD = /^[A-Za-z0-9.@+()_-]+$/;
const WORDS = /[A-Za-z0-9.@+()_-]+/g;

/** Every value registered in this process so far (for the whole-suite scan). */
export function registeredSensitive(): string[] {
  return [...sensitive];
}

/**
 * Where `text` holds one of `values`, or a Luhn-valid 13–19 digit run (a card number nobody
 * registered); undefined when clean. Says where and what kind, never the value itself.
 */
export function findPersonalData(text: string, values: Iterable<string>): string | undefined {
  // Searching tens of megabytes of soak output for tens of thousands of values one indexOf at a
  // time is quadratic. Values made only of "word" characters (every generated name, email,
  // phone and card number) are found by looking each distinct word of the text up, at every
  // offset, in sets of values by length; any other value falls back to indexOf.
  const byLength = new Map<number, Set<string>>();
  for (const v of values) {
    if (WORD.test(v)) {
      let set = byLength.get(v.length);
      if (!set) {
        set = new Set();
        byLength.set(v.length, set);
      }
      set.add(v);
    } else {
      const at = text.indexOf(v);
      if (at >= 0) return `a registered personal value (length ${v.length}) at offset ${at}`;
    }
  }
  const seen = new Set<string>();
  for (const m of text.matchAll(WORDS)) {
    const word = m[0];
    if (seen.has(word)) continue;
    seen.add(word);
    for (const [length, set] of byLength) {
      for (let i = 0; i + length <= word.length; i++) {
        if (set.has(word.slice(i, i + length)))
          return `a registered personal value (length ${length}) at offset ${m.index + i}`;
      }
    }
  }
  for (const m of text.matchAll(/(?<![0-9])[0-9]{13,19}(?![0-9])/g)) {
    if (luhnValid(m[0])) return `a card-number-like digit run at offset ${m.index}`;
  }
  return undefined;
}

/**
 * Fails if any registered personal value, or any Luhn-valid 13–19 digit run, appears in `text`.
 * Reports where, without echoing the value itself.
 */
export function assertNoPersonalData(text: string, what = 'logs'): void {
  const found = findPersonalData(text, sensitive);
  assert.equal(found, undefined, `${what} contain ${found}`);
}
