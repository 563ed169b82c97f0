import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { encodeVisaMessage, samplePayload, xPayToken } from '../visa/visa-encoder.js';
import { intFlag, parse, UsageError } from './cli-support.js';
import { DEV, devHome } from './dev-setup.js';

export const sendHelp = `ctp-notify send [--url URL] [--payload FILE] [--count N]
    [--signing-key PEM --signing-kid KID] [--encryption-cert PEM --encryption-kid KID]
    [--cert PEM --key PEM] [--ca PEM] [--x-pay-token-secret S | --x-pay-token-secret-file F]
    [--token-requestor-id ID] [--event-type TYPE] [--dev-home DIR]
  Acts as Visa: encrypts the payload to the issuer (JWE RSA-OAEP-256/A256GCM), signs it (JWS
  PS256) and POSTs it. URL may be a base ("https://host:8443") or the full notification URL.
  Missing keys and secrets are taken from the development setup, when there is one.`;

/** Loads a public key from a certificate or SPKI PEM. */
function publicKeyFrom(pem: string): KeyObject {
  return pem.includes('BEGIN CERTIFICATE')
    ? new X509Certificate(pem).publicKey
    : createPublicKey(pem);
}

export async function sendCommand(argv: string[]): Promise<number> {
  const f = parse(argv, {
    url: { type: 'string' },
    payload: { type: 'string' },
    count: { type: 'string' },
    'signing-key': { type: 'string' },
    'signing-kid': { type: 'string' },
    'encryption-cert': { type: 'string' },
    'encryption-kid': { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    'x-pay-token-secret': { type: 'string' },
    'x-pay-token-secret-file': { type: 'string' },
    'token-requestor-id': { type: 'string', default: '40010030273' },
    'event-type': { type: 'string', default: 'CTP_ENROLLMENT_ATTEMPT' },
    'dev-home': { type: 'string' },
  });
  const home = f['dev-home'] ?? devHome();
  const dev = existsSync(join(home, DEV.config)) ? home : undefined;
  const fromDev = (given: string | undefined, rel: string) =>
    given ?? (dev ? join(dev, rel) : undefined);

  const signingKeyPath = fromDev(f['signing-key'], DEV.visaKey);
  const encryptionCertPath = fromDev(f['encryption-cert'], DEV.issuerCert);
  if (!signingKeyPath || !encryptionCertPath) {
    throw new UsageError(
      '--signing-key and --encryption-cert are required (no development setup found)',
    );
  }
  const keys = {
    signingKey: createPrivateKey(readFileSync(signingKeyPath)),
    signingKid: f['signing-kid'] ?? DEV.visaKid,
    encryptionKey: publicKeyFrom(readFileSync(encryptionCertPath, 'utf8')),
    encryptionKid: f['encryption-kid'] ?? DEV.issuerKid,
  };
  let secret = f['x-pay-token-secret'];
  const secretFile = fromDev(f['x-pay-token-secret-file'], DEV.xPayTokenSecret);
  if (secret === undefined && secretFile !== undefined && existsSync(secretFile))
    secret = readFileSync(secretFile, 'utf8').trim();

  let devUrl: string | undefined;
  if (dev) {
    const cfg = JSON.parse(readFileSync(join(dev, DEV.config), 'utf8')) as {
      listen?: { host?: string; port?: number };
    };
    devUrl = `http://${cfg.listen?.host ?? '127.0.0.1'}:${cfg.listen?.port ?? DEV.port}`;
  }
  const base = f.url ?? devUrl;
  if (!base) throw new UsageError('--url is required (no development setup found)');
  const url = new URL(base);
  if (!url.pathname.includes('/vtis/')) {
    url.pathname = `${url.pathname.replace(/\/$/, '')}/vtis/v1/tokenRequestors/${f['token-requestor-id']}/cardEnrollment/notification`;
    url.search = `?eventType=${encodeURIComponent(f['event-type'])}`;
  }
  const resourcePath = url.pathname.slice(url.pathname.indexOf('/vtis/') + 1);
  const queryString = url.search.replace(/^\?/, '');

  const payload: unknown = f.payload
    ? JSON.parse(readFileSync(f.payload, 'utf8'))
    : samplePayload();
  const dispatcher =
    f.cert || f.ca
      ? new Agent({
          connect: {
            ...(f.cert ? { cert: readFileSync(f.cert) } : {}),
            ...(f.key ? { key: readFileSync(f.key) } : {}),
            ...(f.ca ? { ca: readFileSync(f.ca) } : {}),
          },
        })
      : undefined;

  const count = intFlag(f.count, 'count', 1);
  const statuses = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({ encryptedData: await encodeVisaMessage(payload, keys) });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (secret) headers['x-pay-token'] = xPayToken(secret, resourcePath, queryString, body);
    const res = await request(url, {
      method: 'POST',
      headers,
      body,
      ...(dispatcher ? { dispatcher } : {}),
    });
    await res.body.dump();
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (count === 1)
      process.stdout.write(`POST ${url.origin}${url.pathname}${url.search} -> ${res.statusCode}\n`);
  }
  if (count > 1)
    process.stdout.write(
      `sent ${count}: ${[...statuses].map(([s, n]) => `${n}x ${s}`).join(', ')}\n`,
    );
  await dispatcher?.close();
  return statuses.size === 1 && statuses.has(200) ? 0 : 1;
}
