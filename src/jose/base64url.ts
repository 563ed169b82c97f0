/**
 * Strict base64url (RFC 4648 §5, no padding) as RFC 7515 §2 requires for every JOSE segment.
 * `Buffer.from(s, 'base64url')` silently skips characters outside the alphabet; a verifier must
 * not, or two different strings would decode to the same bytes.
 */
const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Decodes `s`, or returns `undefined` if it is not strict unpadded base64url. */
export function decodeBase64url(s: string): Buffer | undefined {
  const rest = s.length % 4;
  if (rest === 1 || !ALPHABET.test(s)) return undefined;
  // Reject non-canonical trailing bits (e.g. "QR" and "QQ" both decoding to "A", RFC 4648 §3.5):
  // a final group of 2 characters carries 4 unused bits, one of 3 carries 2; they must be zero.
  // Checking the last character spares re-encoding the whole segment to compare.
  if (rest !== 0 && (sextet(s.charCodeAt(s.length - 1)) & (rest === 2 ? 0x0f : 0x03)) !== 0)
    return undefined;
  return Buffer.from(s, 'base64url');
}

/** Value of a base64url character already known to be in the alphabet. */
function sextet(c: number): number {
  if (c >= 65 && c <= 90) return c - 65; // A-Z
  if (c >= 97 && c <= 122) return c - 71; // a-z
  if (c >= 48 && c <= 57) return c + 4; // 0-9
  return c === 45 ? 62 : 63; // - _
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
