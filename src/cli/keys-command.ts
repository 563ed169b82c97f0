import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HsmToken } from '../hsm/hsm-token.js';
import { openTokenKey, type ResolvedMechanism } from '../hsm/token-decryption-key.js';
import { disableSigning, generateTokenKeyPair, tokenSigner } from '../hsm/token-key-ceremony.js';
import { openConfiguredToken } from '../keys/load-secrets.js';
import { createCertificate, createCsr, generateRsaKeyPair } from '../pki/certificates.js';
import { loadConfigFrom, parse, subcommandMessage, UsageError } from './cli-support.js';

export const keysHelp = `ctp-notify keys generate --kid KID --out DIR [--bits 2048|3072|4096] [--subject DN] [--days N]
  Makes the issuer's encryption key pair in files: DIR/KID.key.pem (PKCS#8, mode 0600) for
  keys.decryption, and DIR/KID.cert.pem, the certificate to give Visa.
ctp-notify keys generate --hsm --config FILE --kid KID --out DIR [--bits N] [--csr]
                         [--mechanism rsa-oaep-sha256|rsa-raw] [--subject DN] [--days N]
  Makes the key pair inside the token of the config's "hsm" block, labelled KID: sensitive, not
  extractable, allowed only the given decryption mechanism where the token supports
  CKA_ALLOWED_MECHANISMS (default rsa-oaep-sha256). Writes only DIR/KID.cert.pem (self-signed by
  the token key) and, with --csr, DIR/KID.csr.pem; then turns the key's signing off.
ctp-notify keys wrap-data-key --config FILE --kek LABEL --out FILE [--mechanism M] [--from FILE]
  Writes a data key (32 random bytes, or the base64 key in --from, to move an existing key)
  wrapped with RSA-OAEP-256 by the token key LABEL, base64, mode 0600: for dataProtection.keys[]
  or fingerprintKey with "wrappedBy": {"label": LABEL}. The token unwraps it once before it is
  written, so a file that cannot be unwrapped is never made.`;

const MECHANISMS: readonly ResolvedMechanism[] = ['rsa-oaep-sha256', 'rsa-raw'];

export async function keysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'generate') return generate(rest);
  if (sub === 'wrap-data-key') return wrapDataKey(rest);
  throw new UsageError(subcommandMessage(sub));
}

async function generate(argv: string[]): Promise<number> {
  const f = parse(argv, {
    kid: { type: 'string' },
    out: { type: 'string' },
    bits: { type: 'string', default: '2048' },
    subject: { type: 'string' },
    days: { type: 'string', default: '730' },
    hsm: { type: 'boolean' },
    config: { type: 'string' },
    csr: { type: 'boolean' },
    mechanism: { type: 'string', default: 'rsa-oaep-sha256' },
  });
  if (!f.kid || !/^[A-Za-z0-9._-]{1,64}$/.test(f.kid))
    throw new UsageError('--kid is required: letters, digits, . _ - (at most 64)');
  if (!f.out) throw new UsageError('--out DIR is required');
  const bits = Number(f.bits);
  if (bits !== 2048 && bits !== 3072 && bits !== 4096)
    throw new UsageError('--bits must be 2048, 3072 or 4096');
  const subject = f.subject ?? `CN=${f.kid}, O=ctp-notify issuer encryption key`;
  const days = Number(f.days);
  const certPath = join(f.out, `${f.kid}.cert.pem`);
  if (f.hsm) {
    const mechanism = mechanismFlag(f.mechanism);
    const csrPath = join(f.out, `${f.kid}.csr.pem`);
    for (const p of [certPath, ...(f.csr ? [csrPath] : [])])
      if (existsSync(p)) throw new UsageError(`${p} exists; refusing to overwrite it`);
    const { config } = loadConfigFrom(f.config);
    const token = openConfiguredToken(config, { readWrite: true });
    try {
      const made = generateTokenKeyPair(token, f.kid, bits, mechanism);
      const publicKeyPem = made.info.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const signer = tokenSigner(token, f.kid);
      const cert = await createCertificate({
        subject,
        publicKeyPem,
        selfSigner: signer,
        usage: 'encryption',
        days,
      });
      const csr = f.csr ? await createCsr({ subject, publicKeyPem, signer }) : undefined;
      const signingOff = disableSigning(token, f.kid);
      mkdirSync(f.out, { recursive: true });
      writeFileSync(certPath, cert);
      if (csr) writeFileSync(csrPath, csr);
      const where = `token "${token.description.token}"`;
      process.stdout.write(
        `private key  in ${where}, label "${f.kid}", ${bits} bits: sensitive, not extractable` +
          `${made.mechanismsRestricted ? `, only ${mechanism}` : ' (the token has no CKA_ALLOWED_MECHANISMS: restrict it by policy)'}` +
          `${signingOff ? ', signing turned off' : ' (CKA_SIGN could not be turned off: do it by token policy)'}\n` +
          `  keys.decryption: {"kid": "${f.kid}", "hsm": {"label": "${f.kid}", "mechanism": "${mechanism}"}, "certificate": "${certPath}"}\n`,
      );
      process.stdout.write(`certificate  ${certPath}  (give to Visa)\n`);
      if (csr) process.stdout.write(`request      ${csrPath}  (PKCS#10, if Visa asks for a CSR)\n`);
    } finally {
      token.close();
    }
    return 0;
  }
  if (f.csr) throw new UsageError('--csr needs --hsm (for a file key, use openssl req -new -key)');
  const keyPath = join(f.out, `${f.kid}.key.pem`);
  if (existsSync(keyPath))
    throw new UsageError(`${keyPath} exists; refusing to overwrite a private key`);
  mkdirSync(f.out, { recursive: true });
  const pair = generateRsaKeyPair(bits);
  writeFileSync(keyPath, pair.privateKeyPem, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  const cert = await createCertificate({
    subject,
    publicKeyPem: pair.publicKeyPem,
    selfPrivateKeyPem: pair.privateKeyPem,
    usage: 'encryption',
    days,
  });
  writeFileSync(certPath, cert);
  process.stdout.write(
    `private key  ${keyPath}  (0600; keys.decryption: {"kid": "${f.kid}", "privateKey": "${keyPath}"})\n`,
  );
  process.stdout.write(`certificate  ${certPath}  (give to Visa)\n`);
  return 0;
}

async function wrapDataKey(argv: string[]): Promise<number> {
  const f = parse(argv, {
    config: { type: 'string' },
    kek: { type: 'string' },
    out: { type: 'string' },
    mechanism: { type: 'string', default: 'rsa-oaep-sha256' },
    from: { type: 'string' },
  });
  if (!f.kek) throw new UsageError('--kek LABEL is required (the token key that wraps)');
  if (!f.out) throw new UsageError('--out FILE is required');
  if (existsSync(f.out)) throw new UsageError(`${f.out} exists; refusing to overwrite it`);
  const mechanism = mechanismFlag(f.mechanism);
  let clear: Buffer;
  if (f.from) {
    if (!existsSync(f.from)) throw new UsageError(`cannot read ${f.from}`);
    clear = Buffer.from(readFileSync(f.from, 'utf8').trim(), 'base64');
    if (clear.length !== 32) throw new UsageError(`${f.from} does not hold a 32-byte base64 key`);
  } else {
    clear = randomBytes(32);
  }
  const { config } = loadConfigFrom(f.config);
  const token: HsmToken = openConfiguredToken(config, { readWrite: false });
  try {
    const kek = openTokenKey(token, { label: f.kek, mechanism }, '--kek');
    const wrapped = publicEncrypt(
      { key: kek.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      clear,
    );
    const back = kek.unwrapSync(wrapped);
    if (back === undefined || !back.equals(clear))
      throw new Error('the token did not unwrap the wrapped key back');
    writeFileSync(f.out, `${wrapped.toString('base64')}\n`, { mode: 0o600 });
    chmodSync(f.out, 0o600);
  } finally {
    clear.fill(0);
    token.close();
  }
  process.stdout.write(
    `wrapped data key  ${f.out}  (0600; RSA-OAEP-256 under token key "${f.kek}")\n` +
      `  dataProtection.keys[]: {"id": "…", "file": "${f.out}", "wrappedBy": {"label": "${f.kek}", "mechanism": "${mechanism}"}}\n`,
  );
  return 0;
}

function mechanismFlag(value: string | undefined): ResolvedMechanism {
  if (!MECHANISMS.includes(value as ResolvedMechanism))
    throw new UsageError(`--mechanism must be one of ${MECHANISMS.join(', ')}`);
  return value as ResolvedMechanism;
}
