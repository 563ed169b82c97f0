import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { secretEnv } from './secret-env.js';
import { startTestServer, type TestServer } from './server-harness.js';
import type { TestPki } from './test-pki.js';

export const SECRET_A = 'bank-a-shared-secret-0123456789';
export const SECRET_B = 'bank-b-shared-secret-9876543210';

/** A 32-byte data or fingerprint key in a 0600 file. */
export function keyFile(dir: string, name: string): string {
  const p = join(dir, name);
  writeFileSync(p, randomBytes(32).toString('base64'), { mode: 0o600 });
  return p;
}

export function secretFile(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

/** Two issuers with their own decryption key, data keys and X-Pay-Token secret. */
export function twoIssuers(
  pki: TestPki,
  dir: string,
  bRanges?: string[],
): Record<string, unknown>[] {
  return [
    {
      id: 'bank-a',
      name: 'Bank A',
      basePath: '/bank-a',
      keys: { decryption: [{ kid: pki.issuerKid, privateKey: pki.files.issuerKey }] },
      auth: { xPayToken: { sharedSecret: { file: secretFile(dir, 'a.secret', SECRET_A) } } },
      dataProtection: {
        keys: [{ id: 'a1', file: keyFile(dir, 'a1.key') }],
        fingerprintKey: { file: keyFile(dir, 'a-fp.key') },
      },
    },
    {
      id: 'bank-b',
      basePath: '/bank-b',
      ...(bRanges ? { binRanges: bRanges } : {}),
      keys: { decryption: [{ kid: pki.issuerKid2, privateKey: pki.files.issuerKey2 }] },
      auth: { xPayToken: { sharedSecret: { file: secretFile(dir, 'b.secret', SECRET_B) } } },
      dataProtection: {
        keys: [{ id: 'b1', file: keyFile(dir, 'b1.key') }],
        fingerprintKey: { file: keyFile(dir, 'b-fp.key') },
      },
    },
  ];
}

/**
 * Visa's listener for {@link twoIssuers}, each with a webhook sink of its own (`a-core` to
 * `/a`, `b-core` to `/b` of `receiverUrl`) and a top-level one every issuer's events go to
 * (`processor`, `/all`), with the delivery worker running in-process; risk off.
 */
export function startTwoIssuersWithSinks(
  pki: TestPki,
  dir: string,
  storageUrl: string,
  receiverUrl: string,
): Promise<TestServer> {
  const hook = (name: string, path: string) => ({
    name,
    type: 'webhook',
    url: `${receiverUrl}${path}`,
    secrets: [secretEnv(`whsec_${randomBytes(32).toString('base64')}`)],
    timeoutMs: 2000,
  });
  const [a, b] = twoIssuers(pki, dir);
  return startTestServer(pki, {
    storageUrl,
    issuers: [
      { ...a, sinks: [hook('a-core', '/a')] },
      { ...b, sinks: [hook('b-core', '/b')] },
    ],
    delivery: true,
    extra: {
      risk: { enabled: false },
      sinks: [hook('processor', '/all')],
      delivery: { pollIntervalMs: 20, leaseMs: 5000 },
    },
  });
}
