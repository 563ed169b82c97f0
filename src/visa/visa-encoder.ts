import { createHmac, type KeyObject } from 'node:crypto';
import { CompactEncrypt, CompactSign } from 'jose';

export interface VisaEncoderKeys {
  /**
   * Visa's signing key (in tests and `send`: a local stand-in) and the kid the issuer knows it by.
   */
  signingKey: KeyObject;
  signingKid: string;
  /** The issuer's encryption public key (from the certificate given to Visa) and its kid. */
  encryptionKey: KeyObject;
  encryptionKid: string;
}

export interface EncodeOptions {
  /** Default RSA-OAEP-256. */
  alg?: string;
  /** Default A256GCM. */
  enc?: string;
  /** Default PS256. */
  jwsAlg?: string;
  /** Extra JWE protected header members (e.g. `iat`). */
  jweHeader?: Record<string, unknown>;
  /** Extra JWS protected header members. */
  jwsHeader?: Record<string, unknown>;
}

/**
 * Builds `encryptedData` the way Visa does: encrypt to the issuer (JWE, RFC 7516), then sign
 * (JWS, RFC 7515) with `cty: "JWE"`. Built on `jose`, independently of the service's own
 * node:crypto decoder, so tests and `ctp-notify send` exercise the decoder from the outside.
 */
export async function encodeVisaMessage(
  payload: unknown,
  keys: VisaEncoderKeys,
  o: EncodeOptions = {},
): Promise<string> {
  const plaintext =
    typeof payload === 'string' || payload instanceof Uint8Array
      ? payload
      : JSON.stringify(payload);
  const jwe = await new CompactEncrypt(
    typeof plaintext === 'string' ? new TextEncoder().encode(plaintext) : plaintext,
  )
    .setProtectedHeader({
      alg: o.alg ?? 'RSA-OAEP-256',
      enc: o.enc ?? 'A256GCM',
      kid: keys.encryptionKid,
      typ: 'JOSE',
      iat: Math.floor(Date.now() / 1000),
      ...o.jweHeader,
    })
    .encrypt(keys.encryptionKey);
  return signAsVisa(jwe, keys, o);
}

/** Signs an arbitrary payload string as Visa would sign a JWE (for tests of malformed JWEs). */
export async function signAsVisa(
  payload: string,
  keys: Pick<VisaEncoderKeys, 'signingKey' | 'signingKid'>,
  o: EncodeOptions = {},
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({
      alg: o.jwsAlg ?? 'PS256',
      typ: 'JOSE',
      kid: keys.signingKid,
      cty: 'JWE',
      ...o.jwsHeader,
    })
    .sign(keys.signingKey);
}

/**
 * Visa's X-Pay-Token: `xv2:{timestamp}:{hex HMAC-SHA256(secret, timestamp + resourcePath +
 * queryString + body)}`, resourcePath without its leading "/".
 */
export function xPayToken(
  secret: string,
  resourcePath: string,
  queryString: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): string {
  const hash = createHmac('sha256', secret)
    .update(`${timestamp}${resourcePath}${queryString}${body}`)
    .digest('hex');
  return `xv2:${timestamp}:${hash}`;
}

/** A realistic CTP_ENROLLMENT_ATTEMPT payload (Visa's page, "Unencrypted Payload"). */
export function samplePayload(accountNumber = '4111111111111111'): Record<string, unknown> {
  return {
    clientInformation: {
      firstName: 'Jane',
      lastName: 'Cardholder',
      phoneNumber: '+1 (415) 555-0100'.replace(/ /g, ''),
      contactEmail: 'jane.cardholder@example.com',
    },
    enrollment: { tsp: 'V', paymentInstrument: { accountNumber } },
  };
}
