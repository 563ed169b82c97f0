import { createHmac, timingSafeEqual } from 'node:crypto';
import { RejectedError } from '../errors.js';

/** What the transport knows about the TLS client, if the connection was TLS. */
export interface ClientCertificateState {
  /** The client presented a certificate. */
  presented: boolean;
  /**
   * It chains to the configured client CA and, with a CRL configured, is not revoked (Node's
   * `socket.authorized`).
   */
  authorized: boolean;
  /** The subject's common name; undefined when it has none, or several. */
  commonName?: string | undefined;
  /** SHA-256 of the DER certificate, 64 lower-case hex digits. */
  sha256?: string | undefined;
}

/**
 * Which of the client CA's certificates is Visa's (`listen.tls.clientCertificate`): each member
 * given must match; undefined members are not checked.
 */
export interface ClientCertificatePin {
  /** The subject's common name, compared exactly. */
  subject?: string | undefined;
  /** Fingerprints as {@link ClientCertificateState.sha256} gives them. */
  sha256?: ReadonlySet<string> | undefined;
}

/**
 * Mutual TLS, decided at HTTP level: the listener requests a certificate but does not break the
 * handshake without one, so Visa gets a 401 it can log instead of a reset connection. A
 * certificate the CA issued to someone else than the pin names is refused the same way.
 * @throws RejectedError CLIENT_CERT_MISSING | CLIENT_CERT_UNTRUSTED | CLIENT_CERT_NOT_PINNED
 */
export function checkClientCertificate(
  state: ClientCertificateState | undefined,
  pin?: ClientCertificatePin,
): void {
  if (state === undefined || !state.presented)
    throw new RejectedError('CLIENT_CERT_MISSING', 'client certificate missing');
  if (!state.authorized)
    throw new RejectedError('CLIENT_CERT_UNTRUSTED', 'client certificate not trusted');
  if (pin === undefined) return;
  // Neither is a secret (the certificate is public): plain comparisons.
  if (
    (pin.subject !== undefined && state.commonName !== pin.subject) ||
    (pin.sha256 !== undefined && (state.sha256 === undefined || !pin.sha256.has(state.sha256)))
  )
    throw new RejectedError('CLIENT_CERT_NOT_PINNED', 'client certificate not the pinned one');
}

const X_PAY_TOKEN = /^xv2:([0-9]{1,12}):([0-9a-fA-F]{64})$/;

/**
 * Checks Visa's X-Pay-Token: `xv2:{timestamp}:{hex HMAC-SHA256(secret, timestamp + resourcePath
 * + queryString + body)}` (Visa Developer "X-Pay-Token" construction; resourcePath without the
 * leading "/", queryString without "?"). The HMAC is compared in constant time before the
 * timestamp is judged, so a stale verdict is only given to a genuine token.
 *
 * @param skewSeconds allowed distance from `nowSeconds`, either way (config default 300).
 * @throws RejectedError X_PAY_TOKEN_MISSING | X_PAY_TOKEN_INVALID | X_PAY_TOKEN_STALE
 */
export function checkXPayToken(
  header: string | undefined,
  secret: Buffer,
  resourcePath: string,
  queryString: string,
  body: Buffer,
  nowSeconds: number,
  skewSeconds: number,
): void {
  if (header === undefined || header === '')
    throw new RejectedError('X_PAY_TOKEN_MISSING', 'X-Pay-Token missing');
  const m = X_PAY_TOKEN.exec(header);
  if (m === null) throw new RejectedError('X_PAY_TOKEN_INVALID', 'X-Pay-Token malformed');
  const timestamp = m[1]!;
  const given = Buffer.from(m[2]!.toLowerCase(), 'hex');
  const expected = createHmac('sha256', secret)
    .update(timestamp)
    .update(resourcePath)
    .update(queryString)
    .update(body)
    .digest();
  if (!timingSafeEqual(given, expected))
    throw new RejectedError('X_PAY_TOKEN_INVALID', 'X-Pay-Token mismatch');
  if (Math.abs(nowSeconds - Number(timestamp)) > skewSeconds)
    throw new RejectedError('X_PAY_TOKEN_STALE', 'X-Pay-Token outside allowed skew');
}
