import { Secret, TOTP } from 'otpauth';
import { toString as qrSvg } from 'qrcode';

/** RFC 6238 with the parameters every authenticator app takes: SHA-1, 6 digits, 30 seconds. */
const PERIOD_S = 30;

function totp(secretBase32: string, label: string): TOTP {
  return new TOTP({
    issuer: 'ctp-notify',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_S,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new 160-bit secret (RFC 4226 §4 recommends 160), base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://` URI an authenticator app reads, and its QR code as inline SVG. */
export async function enrolment(
  secretBase32: string,
  label: string,
): Promise<{ uri: string; qrSvg: string }> {
  const uri = totp(secretBase32, label).toString();
  return { uri, qrSvg: await qrSvg(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }) };
}

/**
 * The time step a 6-digit `code` is valid for at `now`, one step of clock drift either way
 * (RFC 6238 §5.2); undefined when it is not.
 */
export function totpStep(secretBase32: string, code: string, now: number): number | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const delta = totp(secretBase32, '').validate({ token: code, timestamp: now, window: 1 });
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD_S) + delta;
}
