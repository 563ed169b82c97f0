import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificate, generateRsaKeyPair } from '../src/pki/certificates.js';

/** Server certificate kinds the bench compares. */
export type ServerCertKind = 'rsa' | 'ecdsa';

/** The files of the bench's mutual TLS: one CA for both sides, two server certificates. */
export interface BenchTls {
  caCert: string;
  server: Record<ServerCertKind, { cert: string; key: string }>;
  clientCert: string;
  clientKey: string;
}

/**
 * A test CA, an RSA-2048 and an ECDSA P-256 server certificate for 127.0.0.1, and an RSA-2048
 * client certificate (what Visa presents), made once under `dir` (gitignored). Not for any real
 * use.
 */
export async function benchTls(dir: string): Promise<BenchTls> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f: BenchTls = {
    caCert: join(dir, 'ca.cert.pem'),
    server: {
      rsa: { cert: join(dir, 'server-rsa.cert.pem'), key: join(dir, 'server-rsa.key.pem') },
      ecdsa: { cert: join(dir, 'server-ecdsa.cert.pem'), key: join(dir, 'server-ecdsa.key.pem') },
    },
    clientCert: join(dir, 'client.cert.pem'),
    clientKey: join(dir, 'client.key.pem'),
  };
  if (existsSync(f.clientKey)) return f;
  const secret = (path: string, pem: string) => {
    writeFileSync(path, pem, { mode: 0o600 });
    chmodSync(path, 0o600);
  };
  const ca = generateRsaKeyPair();
  const issuer = { subject: 'CN=ctp-notify bench CA', privateKeyPem: ca.privateKeyPem };
  writeFileSync(
    f.caCert,
    await createCertificate({
      subject: issuer.subject,
      publicKeyPem: ca.publicKeyPem,
      selfPrivateKeyPem: ca.privateKeyPem,
      ca: true,
    }),
  );
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pairs = {
    rsa: generateRsaKeyPair(),
    ecdsa: {
      privateKeyPem: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      publicKeyPem: ec.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    },
  };
  for (const kind of ['rsa', 'ecdsa'] as const) {
    secret(f.server[kind].key, pairs[kind].privateKeyPem);
    writeFileSync(
      f.server[kind].cert,
      await createCertificate({
        subject: 'CN=localhost',
        publicKeyPem: pairs[kind].publicKeyPem,
        issuer,
        usage: 'server',
        hosts: ['localhost', '127.0.0.1'],
      }),
    );
  }
  const client = generateRsaKeyPair();
  writeFileSync(
    f.clientCert,
    await createCertificate({
      subject: 'CN=visa-client',
      publicKeyPem: client.publicKeyPem,
      issuer,
      usage: 'client',
    }),
  );
  secret(f.clientKey, client.privateKeyPem);
  return f;
}
