import * as client from 'openid-client';
import type { OidcConfig } from '../config/oidc-schema.js';

/** The authorization request of one sign-in, and what its callback must match. */
export interface SignInStart {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * The console's OpenID Connect client, on `openid-client` (a certified relying party): the
 * provider's metadata and keys come from discovery, read when first needed and again after a
 * failure; an ID token signed by a key not yet seen makes it fetch the JWKS again.
 */
export class OidcClient {
  #configuration: Promise<client.Configuration> | undefined;
  #skew = 0;

  /** `now` is the service's clock (default `Date.now`): ID tokens' times are judged on it. */
  constructor(
    private readonly settings: OidcConfig,
    private readonly clientSecret: string,
    private readonly now: () => number = Date.now,
  ) {}

  #config(): Promise<client.Configuration> {
    const skew = Math.round((this.now() - Date.now()) / 1000);
    if (skew !== this.#skew) {
      this.#skew = skew;
      this.#configuration = undefined;
    }
    if (!this.#configuration) {
      const issuer = new URL(this.settings.issuer);
      this.#configuration = client
        .discovery(
          issuer,
          this.settings.clientId,
          { [client.clockSkew]: skew },
          client.ClientSecretBasic(this.clientSecret),
          // Plain HTTP only for a provider on loopback (the configuration refuses others).
          issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined,
        )
        .catch((e: unknown) => {
          this.#configuration = undefined;
          throw e;
        });
    }
    return this.#configuration;
  }

  /** The authorization code request with PKCE (RFC 7636, S256), `state` and `nonce`. */
  async start(): Promise<SignInStart> {
    const config = await this.#config();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const scopes = new Set(['openid', ...this.settings.scopes]);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: [...scopes].join(' '),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url, state, nonce, codeVerifier };
  }

  /**
   * Redeems the callback's code and returns the ID token's claims, validated by the library:
   * signature from the provider's JWKS, `iss`, `aud`, `exp`, `iat`, `nonce`, and the `state`
   * and PKCE verifier of this sign-in (OpenID Connect Core §3.1.3.7).
   * @throws when anything does not match (`code` says what, never a token).
   */
  async finish(
    query: string,
    expected: { state: string; nonce: string; codeVerifier: string },
  ): Promise<Record<string, unknown>> {
    const config = await this.#config();
    const current = new URL(this.settings.redirectUri);
    current.search = query;
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: expected.codeVerifier,
      expectedState: expected.state,
      expectedNonce: expected.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw Object.assign(new Error('no ID token'), { code: 'ID_TOKEN_MISSING' });
    return claims as Record<string, unknown>;
  }
}
