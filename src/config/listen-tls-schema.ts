import { Type } from '@sinclair/typebox';
import { FilePath } from './file-path.js';

/**
 * TLS 1.2 suites the Visa listener may offer: ECDHE key exchange (forward secrecy) with an AEAD
 * cipher, AES-GCM (RFC 5289) or ChaCha20-Poly1305 (RFC 7905), for ECDSA or RSA certificates.
 * No static-RSA key exchange, no CBC: what RFC 9325 §4.2 recommends. TLS 1.3's suites are all
 * of that kind (RFC 8446 §9.1) and are Node's defaults.
 */
const TLS12_SUITE = 'ECDHE-(?:ECDSA|RSA)-(?:AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)';

/** A SHA-256 fingerprint: 64 hex digits, bare or as 32 colon-separated pairs, any case. */
const SHA256_FINGERPRINT = '^(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31})$';

/** The default order: AES-128-GCM first (cheapest with AES-NI), ECDSA before RSA for each. */
export const DEFAULT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * The versions and suites a listener offers: the same members, definitions and defaults for the
 * Visa listener (`listen.tls`) and the admin listener (`admin.tls`).
 */
const protocolFields = () => ({
  minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], {
    default: 'TLSv1.2',
    description: 'Lowest TLS version offered (the highest is TLS 1.3); older clients are refused.',
  }),
  ciphers: Type.String({
    pattern: `^${TLS12_SUITE}(?::${TLS12_SUITE})*$`,
    default: DEFAULT_TLS12_CIPHERS,
    description:
      'TLS 1.2 suites, in order of preference (OpenSSL names, `:`-separated): only ECDHE with AES-GCM or ' +
      "ChaCha20-Poly1305 can be listed. TLS 1.3 suites are Node's defaults, all AEAD.",
  }),
});

/** `listen.tls` of the configuration schema. */
export const ListenTlsSchema = Type.Object(
  {
    cert: FilePath({ description: 'Server certificate (PEM, with its chain).' }),
    key: FilePath({ description: 'Server private key (PEM).' }),
    clientCa: Type.Optional(
      FilePath({
        description:
          'When set, mutual TLS: Visa must present a client certificate issued by this CA. Checked at HTTP ' +
          'level, so a missing or foreign certificate gets a 401, not a broken handshake.',
      }),
    ),
    clientCertificate: Type.Optional(
      Type.Object(
        {
          subject: Type.Optional(
            Type.String({
              minLength: 1,
              description:
                "The client certificate's subject common name (CN), compared exactly (case-sensitive); a " +
                'certificate with no CN or several never matches. The CN, not the whole DN: DN strings differ ' +
                'between tools (order, spacing, escaping), a CN does not. Usually unchanged when Visa renews.',
            }),
          ),
          sha256: Type.Optional(
            Type.Array(Type.String({ pattern: SHA256_FINGERPRINT }), {
              minItems: 1,
              description:
                "SHA-256 fingerprints of Visa's client certificates (of the whole DER certificate, as " +
                '`openssl x509 -noout -fingerprint -sha256` prints them): hex, with or without colons, any case. ' +
                'Several during a rotation: add the new one before Visa switches, since a 401 is not retried.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            "Pins Visa's client certificate beyond `clientCa` (needs it): a certificate the CA issued that " +
            'does not match is refused like a missing one (401). Give `subject`, `sha256` or both (then both ' +
            'must match). Absent: any certificate issued by `clientCa`.',
        },
      ),
    ),
    crl: Type.Optional(
      FilePath({
        description:
          'Certificate revocation lists (PEM, `-----BEGIN X509 CRL-----`), one from each CA in `clientCa` ' +
          '(needs it): a revoked client certificate is refused (401). Read at start; refused then if one is ' +
          'from another CA, is missing for a CA, or is past its nextUpdate. Once past it every client ' +
          "certificate is refused, so replace the file and restart before then (the admin listener's " +
          '`/readyz` warns). Absent: revocation is not checked.',
      }),
    ),
    ...protocolFields(),
  },
  {
    additionalProperties: false,
    description: 'TLS for the Visa listener. Absent: plain HTTP (TLS may end at a proxy).',
  },
);

/** `admin.tls` of the configuration schema. */
export const AdminTlsSchema = Type.Object(
  {
    cert: FilePath({ description: 'Admin server certificate (PEM, with its chain).' }),
    key: FilePath({ description: 'Admin server private key (PEM).' }),
    ...protocolFields(),
  },
  {
    additionalProperties: false,
    description:
      'TLS for the admin listener, with the same versions and suites as the Visa listener by default; session ' +
      'cookies are then marked Secure and every answer carries HSTS. Absent: plain HTTP.',
  },
);

/**
 * Node's TLS server options for a listener's versions and suites: TLS 1.2 and 1.3 only, and
 * under 1.2 only the ECDHE AEAD suites of `ciphers`, in the server's order. Node's defaults
 * would also offer static-RSA key exchange and CBC suites (RFC 9325 §4.2 recommends neither).
 */
export function tlsProtocolOptions(tls: { minVersion: 'TLSv1.2' | 'TLSv1.3'; ciphers: string }) {
  return {
    minVersion: tls.minVersion,
    maxVersion: 'TLSv1.3' as const,
    ciphers: tls.ciphers,
    honorCipherOrder: true,
  };
}
