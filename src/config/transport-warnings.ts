import type { Config } from './config-schema.js';

/**
 * A configuration that starts but weakens a defence, for operators: logged at start and listed
 * by the admin listener's `/readyz`. Codes, field names and fixed text only, never a value from
 * the configuration (no path, URL or secret).
 */
export interface ConfigWarning {
  code: 'VISA_CALLER_NOT_AUTHENTICATED';
  message: string;
}

/**
 * The warnings about how Visa's requests are authenticated. With neither mutual TLS
 * (`listen.tls.clientCa`) nor X-Pay-Token (`auth.xPayToken`), any client that reaches the
 * listener has its body parsed as JOSE, and the JWS signature is the only check. That is the
 * expected layout behind a proxy that ends mutual TLS with Visa (the service cannot see the
 * certificate there), so it is a warning, not an error.
 */
export function transportWarnings(config: Config): ConfigWarning[] {
  if (config.listen.tls?.clientCa !== undefined || config.auth.xPayToken !== undefined) return [];
  return [
    {
      code: 'VISA_CALLER_NOT_AUTHENTICATED',
      message:
        'neither mutual TLS (listen.tls.clientCa) nor X-Pay-Token (auth.xPayToken) is required: any ' +
        "client that reaches the Visa listener gets its input to the JOSE parser, and Visa's JWS signature " +
        'is the only check. Expected only behind a proxy that ends mutual TLS with Visa and lets nothing ' +
        'else through; otherwise configure one of them',
    },
  ];
}
