import type { Config } from './config-schema.js';

/**
 * What operators must know of a configuration that starts: one that weakens a defence, or a CRL
 * that has come to refuse Visa. Listed by the admin listener's `/readyz`; those known at start
 * are logged then. Codes, field names, fixed text and dates only, never a value from the
 * configuration (no path, URL or secret).
 */
export interface ConfigWarning {
  code: 'VISA_CALLER_NOT_AUTHENTICATED' | 'CLIENT_CRL_EXPIRED';
  message: string;
}

/**
 * The warnings about how Visa's requests are authenticated, as of `now`.
 *
 * With neither mutual TLS (`listen.tls.clientCa`) nor X-Pay-Token (`auth.xPayToken`, of every
 * issuer), any client
 * that reaches the listener has its body parsed as JOSE, and the JWS signature is the only
 * check. That is the expected layout behind a proxy that ends mutual TLS with Visa (the service
 * cannot see the certificate there), so it is a warning, not an error.
 *
 * Past the nextUpdate of a `listen.tls.crl` CRL (`clientCrlNextUpdate`, from the secrets loaded
 * at start), OpenSSL refuses every client certificate: Visa's notifications get 401s.
 *
 * @param now milliseconds since the epoch; default `Date.now()`.
 */
export function transportWarnings(
  config: Config,
  o: { clientCrlNextUpdate?: Date | undefined; now?: number } = {},
): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  if (
    config.listen.tls?.clientCa === undefined &&
    config.issuers.some((issuer) => issuer.auth.xPayToken === undefined)
  )
    warnings.push({
      code: 'VISA_CALLER_NOT_AUTHENTICATED',
      message:
        'neither mutual TLS (listen.tls.clientCa) nor X-Pay-Token (auth.xPayToken) is required: any ' +
        "client that reaches the Visa listener gets its input to the JOSE parser, and Visa's JWS signature " +
        'is the only check. Expected only behind a proxy that ends mutual TLS with Visa and lets nothing ' +
        'else through; otherwise configure one of them',
    });
  const crlEnds = o.clientCrlNextUpdate;
  if (crlEnds !== undefined && crlEnds.getTime() <= (o.now ?? Date.now()))
    warnings.push({
      code: 'CLIENT_CRL_EXPIRED',
      message:
        `a CRL of listen.tls.crl is past its nextUpdate (${crlEnds.toISOString()}): every client ` +
        "certificate is refused, Visa's notifications included. Replace the file with a current CRL and " +
        'restart',
    });
  return warnings;
}
