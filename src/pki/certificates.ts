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

/**
 * A private key that signs where it lives (a token key): RSASSA-PKCS1-v1_5 with SHA-256 over
 * the DER to be signed.
 */
export interface ExternalSigner {
  sign(data: Buffer): Buffer;
}

export interface CertificateRequest {
  /** Distinguished name, e.g. "CN=ctp-notify issuer encryption, O=Example Bank". */
  subject: string;
  publicKeyPem: string;
  /** The signer; omit for a self-signed certificate (then `signerKeyPem` is the subject's key). */
  issuer?: { subject: string; privateKeyPem: string };
  /** Private key of the subject, needed when self-signed. */
  selfPrivateKeyPem?: string;
  /** Self-signed by a key that never leaves its token, instead of `selfPrivateKeyPem`. */
  selfSigner?: ExternalSigner;
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
  const external = req.issuer ? undefined : req.selfSigner;
  if (signerPem === undefined && external === undefined)
    throw new Error('a signer private key is required');
  const signingKey = external
    ? externalKey()
    : await importSigningKey(createPrivateKey(signerPem as string));
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
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: req.subject,
      issuer: req.issuer?.subject ?? req.subject,
      publicKey,
      signingKey,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      extensions,
    },
    external ? cryptoSigningWith(signingKey, external) : undefined,
  );
  return `${cert.toString('pem')}\n`;
}

/**
 * A PKCS#10 certificate signing request (RFC 2986) for a key in a token, signed by it (proof of
 * possession), for onboardings that ask for a CSR instead of a self-signed certificate.
 */
export async function createCsr(req: {
  subject: string;
  publicKeyPem: string;
  signer: ExternalSigner;
}): Promise<string> {
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    createPublicKey(req.publicKeyPem).export({ type: 'spki', format: 'der' }),
    SIGNING,
    true,
    ['verify'],
  );
  const privateKey = externalKey();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: req.subject,
      keys: { publicKey, privateKey },
      signingAlgorithm: SIGNING,
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyEncipherment, true)],
    },
    cryptoSigningWith(privateKey, req.signer),
  );
  return `${csr.toString('pem')}\n`;
}

/** A stand-in CryptoKey for a key that signs elsewhere: only {@link cryptoSigningWith} uses it. */
function externalKey(): webcrypto.CryptoKey {
  return {
    algorithm: { name: SIGNING.name, hash: { name: SIGNING.hash } },
    type: 'private',
    extractable: false,
    usages: ['sign'],
  } as unknown as webcrypto.CryptoKey;
}

/** Node's WebCrypto, except that `sign` with `key` goes to `signer`. */
function cryptoSigningWith(key: webcrypto.CryptoKey, signer: ExternalSigner): webcrypto.Crypto {
  const subtle = webcrypto.subtle;
  const proxied = new Proxy(subtle, {
    get(target, prop) {
      if (prop === 'sign')
        return async (alg: unknown, k: webcrypto.CryptoKey, data: ArrayBuffer | Uint8Array) =>
          k === key
            ? signer.sign(Buffer.from(data as ArrayBuffer))
            : target.sign(alg as webcrypto.AlgorithmIdentifier, k, data);
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    subtle: proxied,
    getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
    randomUUID: webcrypto.randomUUID.bind(webcrypto),
  } as unknown as webcrypto.Crypto;
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
