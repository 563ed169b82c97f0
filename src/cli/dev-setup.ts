import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { addOperator, type IssuedCredentials } from '../admin/operators.js';
import type { Config } from '../config/config-schema.js';
import { ALL_ISSUERS } from '../domain/issuer-scope.js';
import { createCertificate, generateRsaKeyPair } from '../pki/certificates.js';
import { openStore } from '../storage/open-store.js';

/** Where the development setup lives: `$CTP_NOTIFY_HOME`, default `./.ctp-notify`. */
export function devHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CTP_NOTIFY_HOME ?? '.ctp-notify');
}

export const DEV = {
  config: 'config.json',
  issuerKid: 'issuer-enc-dev',
  visaKid: 'visa-sign-dev',
  issuerKey: 'keys/issuer-enc-dev.key.pem',
  issuerCert: 'keys/issuer-enc-dev.cert.pem',
  visaKey: 'visa-stand-in/visa-sign-dev.key.pem',
  visaCert: 'visa-stand-in/visa-sign-dev.cert.pem',
  dataKey: 'secrets/data-key-dev1',
  fingerprintKey: 'secrets/fingerprint-key',
  xPayTokenSecret: 'secrets/x-pay-token-secret',
  database: 'ctp.sqlite',
  sampleCardholders: 'cardholders.sample.csv',
  port: 8080,
  adminPort: 8081,
  adminOperator: 'admin',
} as const;

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * Makes the development setup's first operator, `admin` with the admin role, when the database
 * has no operator yet. Returns its credentials (shown once), or undefined when operators exist.
 */
export async function ensureDevOperator(config: Config): Promise<IssuedCredentials | undefined> {
  const store = await openStore(config.storage);
  try {
    await store.migrate();
    const operators = store.openAdminStores().operators;
    if ((await operators.list()).length > 0) return undefined;
    return await addOperator(operators, DEV.adminOperator, 'admin', ALL_ISSUERS);
  } finally {
    await store.close();
  }
}

/**
 * Creates a development setup in `home` unless one exists: the issuer's decryption key and
 * certificate, a local stand-in for Visa's signing key (so `ctp-notify send` works), data and
 * fingerprint keys, an X-Pay-Token secret, and a config using SQLite in the same folder.
 * Returns the config path and, when created, the list of files written.
 */
export async function ensureDevSetup(
  home: string,
): Promise<{ configPath: string; created: string[] }> {
  const configPath = join(home, DEV.config);
  if (existsSync(configPath)) return { configPath, created: [] };
  for (const dir of ['keys', 'visa-stand-in', 'secrets'])
    mkdirSync(join(home, dir), { recursive: true, mode: 0o700 });

  const issuer = generateRsaKeyPair(2048);
  writeSecret(join(home, DEV.issuerKey), issuer.privateKeyPem);
  writeFileSync(
    join(home, DEV.issuerCert),
    await createCertificate({
      subject: `CN=${DEV.issuerKid}, O=ctp-notify development`,
      publicKeyPem: issuer.publicKeyPem,
      selfPrivateKeyPem: issuer.privateKeyPem,
      usage: 'encryption',
    }),
  );
  const visa = generateRsaKeyPair(2048);
  writeSecret(join(home, DEV.visaKey), visa.privateKeyPem);
  writeFileSync(
    join(home, DEV.visaCert),
    await createCertificate({
      subject: `CN=${DEV.visaKid}, O=Visa stand-in (development only)`,
      publicKeyPem: visa.publicKeyPem,
      selfPrivateKeyPem: visa.privateKeyPem,
      usage: 'signing',
    }),
  );
  writeSecret(join(home, DEV.dataKey), `${randomBytes(32).toString('base64')}\n`);
  writeSecret(join(home, DEV.fingerprintKey), `${randomBytes(32).toString('base64')}\n`);
  writeSecret(join(home, DEV.xPayTokenSecret), `${randomBytes(24).toString('base64url')}\n`);

  const config = {
    listen: { host: '127.0.0.1', port: DEV.port },
    storage: { url: `sqlite:${DEV.database}` },
    keys: {
      decryption: [{ kid: DEV.issuerKid, privateKey: DEV.issuerKey, certificate: DEV.issuerCert }],
      verification: [{ kid: DEV.visaKid, certificate: DEV.visaCert }],
    },
    auth: { xPayToken: { sharedSecret: { file: DEV.xPayTokenSecret } } },
    dataProtection: {
      keys: [{ id: 'dev1', file: DEV.dataKey }],
      fingerprintKey: { file: DEV.fingerprintKey },
    },
    // A development setup signs in with a password alone; a bank's says `required`.
    admin: { host: '127.0.0.1', port: DEV.adminPort, localMfa: 'optional' },
    log: { level: 'info' },
  };
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  // The card and enroller of `ctp-notify send`'s sample payload, so that after importing this
  // file the sample is assessed against a cardholder on file instead of as an unknown card.
  writeFileSync(
    join(home, DEV.sampleCardholders),
    'accountNumber,firstName,lastName,email,phone,status,language\n' +
      '4111111111111111,Jane,Cardholder,jane.cardholder@example.com,+14155550100,active,en\n',
    { mode: 0o600 },
  );
  const created = [
    DEV.config,
    DEV.issuerKey,
    DEV.issuerCert,
    DEV.visaKey,
    DEV.visaCert,
    DEV.dataKey,
    DEV.fingerprintKey,
    DEV.xPayTokenSecret,
    DEV.sampleCardholders,
    DEV.database,
  ];
  return { configPath, created: created.map((f) => join(home, f)) };
}
