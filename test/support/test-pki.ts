import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificate, generateRsaKeyPair } from '../../src/pki/certificates.js';
import { processTempDir } from './temp-dir.js';

/** Everything a test needs to play Visa, the issuer and an attacker, written to a temp folder. */
export interface TestPki {
  dir: string;
  files: {
    caCert: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
    rogueClientCert: string;
    rogueClientKey: string;
    visaCert: string;
    visaSpki: string;
    issuerKey: string;
    issuerCert: string;
    issuerKey2: string;
    issuerCert2: string;
    dataKey: string;
    dataKey2: string;
    fingerprintKey: string;
  };
  visaKid: string;
  issuerKid: string;
  issuerKid2: string;
  /** Visa's signing key (private) and public key. */
  visaSigningKey: KeyObject;
  visaPublicKey: KeyObject;
  /** An attacker's key, for signatures under Visa's kid. */
  rogueSigningKey: KeyObject;
  issuerPublicKey: KeyObject;
  issuerPublicKey2: KeyObject;
}

let cached: Promise<TestPki> | undefined;

/** One PKI per test process (RSA key generation is the slow part). */
export function testPki(): Promise<TestPki> {
  cached ??= makePki();
  return cached;
}

async function makePki(): Promise<TestPki> {
  const dir = processTempDir('ctp-pki-');
  mkdirSync(dir, { recursive: true });
  const secret = (name: string, content: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, content, { mode: 0o600 });
    chmodSync(p, 0o600);
    return p;
  };
  const pub = (name: string, content: string) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  const ca = generateRsaKeyPair();
  const caCert = await createCertificate({
    subject: 'CN=Test Visa Client CA',
    publicKeyPem: ca.publicKeyPem,
    selfPrivateKeyPem: ca.privateKeyPem,
    ca: true,
  });
  const server = generateRsaKeyPair();
  const serverCert = await createCertificate({
    subject: 'CN=localhost',
    publicKeyPem: server.publicKeyPem,
    issuer: { subject: 'CN=Test Visa Client CA', privateKeyPem: ca.privateKeyPem },
    usage: 'server',
    hosts: ['localhost', '127.0.0.1'],
  });
  const client = generateRsaKeyPair();
  const clientCert = await createCertificate({
    subject: 'CN=visa-client',
    publicKeyPem: client.publicKeyPem,
    issuer: { subject: 'CN=Test Visa Client CA', privateKeyPem: ca.privateKeyPem },
    usage: 'client',
  });
  const rogueCa = generateRsaKeyPair();
  const rogue = generateRsaKeyPair();
  const rogueClientCert = await createCertificate({
    subject: 'CN=visa-client',
    publicKeyPem: rogue.publicKeyPem,
    issuer: { subject: 'CN=Rogue CA', privateKeyPem: rogueCa.privateKeyPem },
    usage: 'client',
  });
  const visa = generateRsaKeyPair();
  const visaCert = await createCertificate({
    subject: 'CN=Visa stand-in',
    publicKeyPem: visa.publicKeyPem,
    selfPrivateKeyPem: visa.privateKeyPem,
    usage: 'signing',
  });
  const issuer = generateRsaKeyPair();
  const issuerCert = await createCertificate({
    subject: 'CN=issuer-enc-2026',
    publicKeyPem: issuer.publicKeyPem,
    selfPrivateKeyPem: issuer.privateKeyPem,
  });
  const issuer2 = generateRsaKeyPair();
  const issuerCert2 = await createCertificate({
    subject: 'CN=issuer-enc-2027',
    publicKeyPem: issuer2.publicKeyPem,
    selfPrivateKeyPem: issuer2.privateKeyPem,
  });
  const attacker = generateRsaKeyPair();

  return {
    dir,
    files: {
      caCert: pub('ca.cert.pem', caCert),
      serverCert: pub('server.cert.pem', serverCert),
      serverKey: secret('server.key.pem', server.privateKeyPem),
      clientCert: pub('client.cert.pem', clientCert),
      clientKey: secret('client.key.pem', client.privateKeyPem),
      rogueClientCert: pub('rogue-client.cert.pem', rogueClientCert),
      rogueClientKey: secret('rogue-client.key.pem', rogue.privateKeyPem),
      visaCert: pub('visa-signing.cert.pem', visaCert),
      visaSpki: pub('visa-signing.spki.pem', visa.publicKeyPem),
      issuerKey: secret('issuer.key.pem', issuer.privateKeyPem),
      issuerCert: pub('issuer.cert.pem', issuerCert),
      issuerKey2: secret('issuer2.key.pem', issuer2.privateKeyPem),
      issuerCert2: pub('issuer2.cert.pem', issuerCert2),
      dataKey: secret('data.key', randomBytes(32).toString('base64')),
      dataKey2: secret('data2.key', randomBytes(32).toString('base64')),
      fingerprintKey: secret('fingerprint.key', randomBytes(32).toString('base64')),
    },
    visaKid: '715EA257',
    issuerKid: 'issuer-enc-2026',
    issuerKid2: 'issuer-enc-2027',
    visaSigningKey: createPrivateKey(visa.privateKeyPem),
    visaPublicKey: createPublicKey(visa.publicKeyPem),
    rogueSigningKey: createPrivateKey(attacker.privateKeyPem),
    issuerPublicKey: new X509Certificate(issuerCert).publicKey,
    issuerPublicKey2: new X509Certificate(issuerCert2).publicKey,
  };
}
