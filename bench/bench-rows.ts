import { chmodSync, copyFileSync } from 'node:fs';
import type { ClientSetup, PhaseOptions, ServiceSetup } from './bench-phase.js';

/**
 * The rows `npm run bench` measures at their maximum, in turns with one another (rows 1-3, the
 * peer and the ceiling). Each is a service configuration and a way of connecting; the phase
 * name is also the row's key in latest.json. Another kind of row (e.g. the issuer key in another
 * kind of key store) is one more entry here: its `service.configure` rewrites the config the
 * bench writes (`keys.decryption`, say), and its `row` says which row it is a variant of.
 */
export interface BenchRow {
  key: string;
  /** The issue's row number (1: receive path, 2: bank configuration, 3: mutual TLS). */
  row: 1 | 2 | 3;
  label: string;
  receiver: PhaseOptions['receiver'];
  service?: ServiceSetup;
  client?: ClientSetup;
}

const bank: ServiceSetup = { risk: true, bank: true };

/** Issuers configured in the row that measures what many issuers cost. */
export const MANY_ISSUERS = 100;

/**
 * Rewrites the bench's one-issuer config into {@link MANY_ISSUERS} issuers, `/bank-1` to
 * `/bank-100`, each with the bench's decryption key and data keys under ids of its own (each
 * issuer's keys are loaded once, at start, as a processor's would be).
 */
function copyOf(file: string, suffix: string): string {
  const copy = `${file}.${suffix}`;
  copyFileSync(file, copy);
  chmodSync(copy, 0o600);
  return copy;
}

function manyIssuers(config: Record<string, unknown>): void {
  const keys = config.keys as { decryption: unknown; verification: unknown };
  const dp = config.dataProtection as {
    keys: { id: string; file: string }[];
    fingerprintKey: unknown;
  };
  // Each issuer keeps its decryption key in a file of its own (one file for two issuers is
  // refused): copies of the bench's key.
  const [key] = keys.decryption as { kid: string; privateKey: string }[];
  config.issuers = Array.from({ length: MANY_ISSUERS }, (_, i) => ({
    id: `bank-${i + 1}`,
    basePath: `/bank-${i + 1}`,
    keys: { decryption: [{ ...key, privateKey: copyOf(key!.privateKey, `bank-${i + 1}`) }] },
    dataProtection: {
      keys: dp.keys.map((k) => ({ ...k, id: `${k.id}-${i + 1}` })),
      fingerprintKey: dp.fingerprintKey,
    },
  }));
  config.keys = { verification: keys.verification };
  delete config.dataProtection;
}

export const MAX_ROWS: readonly BenchRow[] = [
  {
    key: 'receive',
    row: 1,
    label: 'receive path (risk off, no sinks)',
    receiver: 'service',
    service: { risk: false, bank: false },
  },
  {
    key: 'receive-100-issuers',
    row: 1,
    label: `receive path with ${MANY_ISSUERS} issuers configured, traffic to the last`,
    receiver: 'service',
    service: { risk: false, bank: false, configure: manyIssuers },
    client: { basePath: `/bank-${MANY_ISSUERS}` },
  },
  {
    key: 'bank',
    row: 2,
    label: 'bank configuration (directory of 100,000, alerts, webhook sink)',
    receiver: 'service',
    service: bank,
  },
  {
    key: 'bank-mtls',
    row: 3,
    label: 'bank over mutual TLS, keep-alive (RSA-2048 server certificate)',
    receiver: 'service',
    service: { ...bank, tls: 'rsa' },
  },
  {
    key: 'bank-mtls-new-rsa',
    row: 3,
    label: 'bank over mutual TLS, a new connection per request, full handshake, RSA-2048',
    receiver: 'service',
    service: { ...bank, tls: 'rsa' },
    client: { connection: 'per-request' },
  },
  {
    key: 'bank-mtls-new-ecdsa',
    row: 3,
    label: 'bank over mutual TLS, a new connection per request, full handshake, ECDSA P-256',
    receiver: 'service',
    service: { ...bank, tls: 'ecdsa' },
    client: { connection: 'per-request' },
  },
  {
    key: 'bank-mtls-resumed-rsa',
    row: 3,
    label: 'bank over mutual TLS, a new connection per request, session resumed, RSA-2048',
    receiver: 'service',
    service: { ...bank, tls: 'rsa' },
    client: { connection: 'per-request', resume: true },
  },
  {
    key: 'bank-mtls-resumed-ecdsa',
    row: 3,
    label: 'bank over mutual TLS, a new connection per request, session resumed, ECDSA P-256',
    receiver: 'service',
    service: { ...bank, tls: 'ecdsa' },
    client: { connection: 'per-request', resume: true },
  },
];

/**
 * Row 2 with parts left out (`--parts`), in the same turns: what the assessment alone, the
 * alerts and the webhook sink each add to the receive path.
 */
export const BANK_PART_ROWS: readonly BenchRow[] = [
  {
    key: 'bank-risk-only',
    row: 2,
    label: 'bank configuration without alerts or sink (the assessment alone)',
    receiver: 'service',
    service: { ...bank, without: ['alerts', 'sink'] },
  },
  {
    key: 'bank-no-sink',
    row: 2,
    label: 'bank configuration without the webhook sink',
    receiver: 'service',
    service: { ...bank, without: ['sink'] },
  },
  {
    key: 'bank-no-alerts',
    row: 2,
    label: 'bank configuration without alerts',
    receiver: 'service',
    service: { ...bank, without: ['alerts'] },
  },
];

/** The comparison receivers, measured in the same turns. */
/** Row 1 with the issuer key in SoftHSM2 (mechanism rsa-raw) instead of its PEM file. */
export const TOKEN_ROW = { key: 'receive-token', label: 'receive path, key in SoftHSM2 (rsa-raw)' };
export const PEER_ROW = { key: 'peer', label: 'peer (Fastify, jose, one insert per request)' };
export const CEILING_ROW = {
  key: 'ceiling',
  label: 'ceiling (the bound operation alone behind node:http)',
};

/** Row 2's configuration, for the rows measured apart from the turns (4, 5, 6). */
export const BANK: ServiceSetup = bank;

/**
 * Rows 1 and 2 again with traces exported for every request (`npm run bench -- --traces`), in
 * the same turns: what tracing at sampling 1.0 costs.
 */
export const TRACED_ROWS: readonly BenchRow[] = [
  {
    key: 'receive-traced',
    row: 1,
    label: 'receive path, traces exported (sampling 1.0)',
    receiver: 'service',
    service: { risk: false, bank: false, traced: true },
  },
  {
    key: 'bank-traced',
    row: 2,
    label: 'bank configuration, traces exported (sampling 1.0)',
    receiver: 'service',
    service: { ...bank, traced: true },
  },
];
