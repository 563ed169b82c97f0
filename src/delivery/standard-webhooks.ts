import { createHmac } from 'node:crypto';

/**
 * Signing per the Standard Webhooks specification (https://www.standardwebhooks.com/,
 * spec/standard-webhooks.md, "Signature scheme"): HMAC-SHA256 keyed with the base64-decoded
 * secret over `{webhook-id}.{webhook-timestamp}.{body}`, sent as `v1,{base64}`. Several
 * signatures are space-separated in one `webhook-signature` header, which is how a receiver
 * rotates secrets without dropping a message.
 */

const PREFIX = 'whsec_';

/**
 * Decodes a `whsec_`-prefixed base64 secret. The specification asks for 24 to 64 random bytes.
 * @throws Error with a fixed message (never the secret) when the text is not such a secret.
 */
export function parseWebhookSecret(text: string): Buffer {
  const t = text.trim();
  if (!t.startsWith(PREFIX)) throw new Error('webhook secret must start with whsec_');
  const b64 = t.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
    throw new Error('webhook secret is not base64 after whsec_');
  const key = Buffer.from(b64, 'base64');
  if (key.length < 24 || key.length > 64) throw new Error('webhook secret must be 24 to 64 bytes');
  return key;
}

/** The three Standard Webhooks headers for one attempt. `timestamp` in seconds since the epoch. */
export function standardWebhookHeaders(
  keys: readonly Buffer[],
  id: string,
  timestamp: number,
  body: Buffer,
): Record<string, string> {
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]);
  const signatures = keys.map(
    (k) => `v1,${createHmac('sha256', k).update(signed).digest('base64')}`,
  );
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  };
}
