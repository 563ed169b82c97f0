import type { Config } from '../../src/config/config-schema.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { RiskInputs } from '../../src/domain/risk-codes.js';
import type { Cardholder, DirectoryResult } from '../../src/risk/directory/cardholder.js';
import { riskInputs } from '../../src/risk/risk-inputs.js';
import type {
  AttemptContext,
  AttemptFacts,
  AttemptHistory,
  RiskContext,
} from '../../src/risk/rules/risk-rule.js';

const base = {
  storage: { url: 'sqlite::memory:' },
  keys: {
    decryption: [{ kid: 'a', privateKey: 'a' }],
    verification: [{ kid: 'b', certificate: 'b' }],
  },
  dataProtection: { keys: [{ id: 'k', file: 'f' }], fingerprintKey: { file: 'g' } },
};

/** `risk` settings as the config loader makes them, with overrides. */
export function riskSettings(risk: Record<string, unknown> = {}): Config['risk'] {
  return parseConfig({ ...base, risk }, '/tmp').risk;
}

export const holder = (o: Partial<Cardholder> = {}): Cardholder => ({
  firstName: 'Robert',
  lastName: 'Smith',
  emails: ['robert.smith@example.org'],
  phones: ['+447700900123'],
  status: 'active',
  language: 'en',
  ...o,
});

export interface ContextOverrides {
  attempt?: Partial<AttemptFacts>;
  directory?: DirectoryResult;
  history?: Partial<AttemptHistory>;
  risk?: Record<string, unknown>;
}

/**
 * What the rules read for an attempt where everything matches (override what a test is
 * about): the raw attempt and the cardholder on file, turned into inputs as the service does.
 */
export function context(o: ContextOverrides = {}): RiskContext {
  const raw = attemptContext(o);
  return { inputs: riskInputs(raw), settings: raw.settings };
}

/** The inputs of {@link context}, as stored with an assessment. */
export function inputsFor(o: ContextOverrides = {}): RiskInputs {
  return context(o).inputs;
}

function attemptContext(o: ContextOverrides): AttemptContext {
  return {
    attempt: {
      receivedAt: Date.UTC(2026, 0, 5, 12),
      firstName: 'Robert',
      lastName: 'Smith',
      contactEmail: 'robert.smith@example.org',
      phoneNumber: '07700900123',
      panBin: '453201',
      panLast4: '1234',
      panLuhnValid: true,
      panFingerprint: 'fp',
      ...o.attempt,
    },
    directory: o.directory ?? { kind: 'found', cardholder: holder() },
    history: {
      attempts24h: 1,
      attempts7d: 1,
      enrollers7d: 1,
      cardsByEmail: 1,
      cardsByPhone: 1,
      ...o.history,
    },
    settings: riskSettings({ defaultCountry: 'GB', ...o.risk }),
  };
}
