import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { soleIssuerKeys } from '../../src/keys/load-secrets.js';
import { importCardholders } from '../../src/risk/directory/cardholder-import.js';
import { registerSensitive, testPan } from './personal-data.js';
import type { TestServer } from './server-harness.js';
import { processTempDir } from './temp-dir.js';

export interface FixtureHolder {
  pan: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  status: 'active' | 'blocked' | 'closed';
  language: string;
}

let n = 0;

/** A cardholder with made-up, registered personal values (scanned for in logs). */
export function fixtureHolder(o: Partial<FixtureHolder> = {}): FixtureHolder {
  n++;
  const h: FixtureHolder = {
    pan: testPan(50_000 + n),
    firstName: 'Margaret',
    lastName: `Whitfield${String.fromCharCode(97 + (n % 26))}`,
    email: `margaret.w${n}@example.org`,
    phone: `+4477009${String(10_000 + n).slice(-5)}`,
    status: 'active',
    language: 'en',
    ...o,
  };
  registerSensitive(h.pan, h.lastName, h.email, h.phone);
  return h;
}

/** Imports holders into a running test server's directory (the same code as the CLI). */
export async function importHolders(s: TestServer, holders: FixtureHolder[]): Promise<void> {
  const file = join(processTempDir('ctp-holders-'), 'cardholders.jsonl');
  writeFileSync(
    file,
    holders
      .map((h) =>
        JSON.stringify({
          accountNumber: h.pan,
          firstName: h.firstName,
          lastName: h.lastName,
          email: h.email,
          phone: h.phone,
          status: h.status,
          language: h.language,
        }),
      )
      .join('\n'),
  );
  const r = await importCardholders(
    file,
    s.runtime.risk!.stores.cardholders,
    soleIssuerKeys(s.runtime.secrets).dataProtector,
    { defaultCountry: s.config.risk.defaultCountry },
  );
  if (r.skipped > 0) throw new Error(`fixture rows skipped: ${JSON.stringify(r.errors)}`);
}

/** A Visa payload for an enrollment of `pan` by the given enroller. */
export function attemptPayload(
  pan: string,
  e: { firstName: string; lastName: string; email?: string; phone?: string },
): Record<string, unknown> {
  const clientInformation: Record<string, string> = {
    firstName: e.firstName,
    lastName: e.lastName,
  };
  if (e.email) clientInformation.contactEmail = e.email;
  if (e.phone) clientInformation.phoneNumber = e.phone;
  registerSensitive(e.firstName, e.lastName, e.email, e.phone);
  return { clientInformation, enrollment: { tsp: 'V', paymentInstrument: { accountNumber: pan } } };
}
