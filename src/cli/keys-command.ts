import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificate, generateRsaKeyPair } from '../pki/certificates.js';
import { parse, subcommandMessage, UsageError } from './cli-support.js';

export const keysHelp = `ctp-notify keys generate --kid KID --out DIR [--bits 2048|3072|4096] [--subject DN] [--days N]
  Makes the issuer's encryption key pair: DIR/KID.key.pem (PKCS#8, mode 0600) for keys.decryption,
  and DIR/KID.cert.pem, the certificate to give Visa.`;

export async function keysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'generate') throw new UsageError(subcommandMessage(sub));
  const f = parse(rest, {
    kid: { type: 'string' },
    out: { type: 'string' },
    bits: { type: 'string', default: '2048' },
    subject: { type: 'string' },
    days: { type: 'string', default: '730' },
  });
  if (!f.kid || !/^[A-Za-z0-9._-]{1,64}$/.test(f.kid))
    throw new UsageError('--kid is required: letters, digits, . _ - (at most 64)');
  if (!f.out) throw new UsageError('--out DIR is required');
  const bits = Number(f.bits);
  if (bits !== 2048 && bits !== 3072 && bits !== 4096)
    throw new UsageError('--bits must be 2048, 3072 or 4096');
  const keyPath = join(f.out, `${f.kid}.key.pem`);
  const certPath = join(f.out, `${f.kid}.cert.pem`);
  if (existsSync(keyPath))
    throw new UsageError(`${keyPath} exists; refusing to overwrite a private key`);
  mkdirSync(f.out, { recursive: true });
  const pair = generateRsaKeyPair(bits);
  writeFileSync(keyPath, pair.privateKeyPem, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  const cert = await createCertificate({
    subject: f.subject ?? `CN=${f.kid}, O=ctp-notify issuer encryption key`,
    publicKeyPem: pair.publicKeyPem,
    selfPrivateKeyPem: pair.privateKeyPem,
    usage: 'encryption',
    days: Number(f.days),
  });
  writeFileSync(certPath, cert);
  process.stdout.write(
    `private key  ${keyPath}  (0600; keys.decryption: {"kid": "${f.kid}", "privateKey": "${keyPath}"})\n`,
  );
  process.stdout.write(`certificate  ${certPath}  (give to Visa)\n`);
  return 0;
}
