import 'reflect-metadata';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  webcrypto,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export interface RsaKeyPair {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
}

/** An RSA key pair (default 2048 bits, e = 65537). */
export function generateRsaKeyPair(bits: 2048 | 3072 | 4096 = 2048): RsaKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

export interface CertificateRequest {
  /** Distinguished name, e.g. "CN=ctp-notify issuer encryption, O=Example Bank". */
  subject: string;
  publicKeyPem: string;
  /** The signer; omit for a self-signed certificate (then `signerKeyPem` is the subject's key). */
  issuer?: { subject: string; privateKeyPem: string };
  /** Private key of the subject, needed when self-signed. */
  selfPrivateKeyPem?: string;
  /** Default 730 days. */
  days?: number;
  ca?: boolean;
  /** serverAuth (with `hosts` as SANs), clientAuth, or neither (an encryption certificate). */
  usage?: 'server' | 'client' | 'encryption' | 'signing';
  hosts?: string[];
}

/**
 * Issues an X.509 certificate (SHA-256 with RSA, by an RSA issuer) as PEM, for an RSA or an
 * ECDSA P-256 subject key.
 */
export async function createCertificate(req: CertificateRequest): Promise<string> {
  const signerPem = req.issuer?.privateKeyPem ?? req.selfPrivateKeyPem;
  if (signerPem === undefined) throw new Error('a signer private key is required');
  const signingKey = await importSigningKey(createPrivateKey(signerPem));
  const subjectKey = createPublicKey(req.publicKeyPem);
  // The subject's key may be ECDSA P-256 (a TLS server certificate); the signature is the
  // issuer's, RSA either way.
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    subjectKey.export({ type: 'spki', format: 'der' }),
    subjectKey.asymmetricKeyType === 'ec' ? { name: 'ECDSA', namedCurve: 'P-256' } : SIGNING,
    true,
    ['verify'],
  );
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (req.days ?? 730) * 86_400_000);
  const usage = req.usage ?? 'encryption';
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(Boolean(req.ca), undefined, true),
  ];
  if (req.ca) {
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    );
  } else if (usage === 'encryption') {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true));
  } else if (usage === 'signing') {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
  } else {
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
    );
    extensions.push(
      new x509.ExtendedKeyUsageExtension([
        usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
      ]),
    );
  }
  if (req.hosts?.length) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        req.hosts.map((h) => ({
          type: /^[0-9.]+$|:/.test(h) ? ('ip' as const) : ('dns' as const),
          value: h,
        })),
      ),
    );
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(publicKey));
  const cert = await x509.X509CertificateGenerator.create({
    subject: req.subject,
    issuer: req.issuer?.subject ?? req.subject,
    publicKey,
    signingKey,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    extensions,
  });
  return `${cert.toString('pem')}\n`;
}

async function importSigningKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey(
    'pkcs8',
    key.export({ type: 'pkcs8', format: 'der' }),
    SIGNING,
    false,
    ['sign'],
  );
}
