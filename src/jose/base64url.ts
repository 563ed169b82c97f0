/**
 * Strict base64url (RFC 4648 §5, no padding) as RFC 7515 §2 requires for every JOSE segment.
 * `Buffer.from(s, 'base64url')` silently skips characters outside the alphabet; a verifier must
 * not, or two different strings would decode to the same bytes.
 */
const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Decodes `s`, or returns `undefined` if it is not strict unpadded base64url. */
export function decodeBase64url(s: string): Buffer | undefined {
  if (s.length % 4 === 1 || !ALPHABET.test(s)) return undefined;
  const out = Buffer.from(s, 'base64url');
  // Reject non-canonical trailing bits (e.g. "QR" and "QQ" both decoding to "A").
  if (out.toString('base64url') !== s) return undefined;
  return out;
}

/** Decodes a JOSE header segment into a JSON object, or `undefined`. */
export function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
