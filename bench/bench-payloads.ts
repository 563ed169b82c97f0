import { luhnValid } from '../src/protect/data-protector.js';

const FIRST = [
  'Amelie',
  'Jonas',
  'Sofia',
  'Mateo',
  'Hannah',
  'Yusuf',
  'Chloe',
  'Kenji',
  'Ines',
  'Oskar',
  'Priya',
  'Liam',
];
const LAST = [
  'Dubois',
  'Schmidt',
  'Rossi',
  'Garcia',
  'Novak',
  'Okafor',
  'Tanaka',
  'Larsen',
  'Silva',
  'Murphy',
  'Kowalski',
];
const BINS = ['411111', '400551', '426684', '455673', '492910', '414720'];

/**
 * The i-th CTP_ENROLLMENT_ATTEMPT payload of a bench set: the shape and sizes of Visa's page
 * example, every card number distinct and Luhn-valid, names, emails and phones varied.
 * Deterministic in `i`, so a cached set can be extended.
 */
export function benchPayload(i: number): Record<string, unknown> {
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[(i * 7) % LAST.length]!;
  const body = `${BINS[i % BINS.length]}${String(i).padStart(9, '0')}`;
  let pan = '';
  for (let d = 0; d <= 9 && pan === ''; d++) if (luhnValid(body + d)) pan = body + d;
  return {
    clientInformation: {
      firstName: first,
      lastName: last,
      // A possible UK mobile number (07700 9xxxxx), as the directory and the phone rules expect.
      phoneNumber: `+4477009${String(i % 100_000).padStart(5, '0')}`,
      contactEmail: `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.org`,
    },
    enrollment: { tsp: 'V', paymentInstrument: { accountNumber: pan } },
  };
}
