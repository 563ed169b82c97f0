import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/** A user of the test provider: the claims it puts in the ID token. */
export interface TestUser {
  sub: string;
  username: string;
  email: string;
  groups: string[];
  /** RFC 8176 methods of the sign-in (`['pwd', 'otp']` for a second factor). */
  amr: string[];
}

export const CLIENT_ID = 'ctp-notify';

/**
 * A real OpenID Provider (panva's `oidc-provider`, a certified implementation) on loopback,
 * with a confidential client for the console. Its login step signs in `signInAs` without a form
 * (the provider's own interaction API), with that user's `amr`; consent is given by the grant
 * the provider loads for its first-party client.
 */
export class TestIdentityProvider {
  readonly users = new Map<string, TestUser>();
  /** The user the next interaction signs in. */
  signInAs = '';
  url = '';
  readonly #server: Server;
  #provider: Provider | undefined;

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(redirectUri: string, clientSecret: string): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    const users = this.users;
    const client = {
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      response_types: ['code'] as const,
      grant_types: ['authorization_code'] as const,
    };
    this.#provider = new Provider(this.url, {
      clients: [
        { client_id: CLIENT_ID, ...client },
        // Another relying party of the same provider, for tokens made for someone else.
        { client_id: 'other-app', ...client },
      ],
      claims: {
        acr: null,
        auth_time: null,
        iss: null,
        sid: null,
        // amr with every ID token, as Entra ID and Okta send it (RFC 8176).
        openid: ['sub', 'amr'],
        profile: ['preferred_username'],
        email: ['email'],
        groups: ['groups'],
      },
      // The scopes' claims go into the ID token, as Entra ID and Keycloak put groups there.
      conformIdTokenClaims: false,
      cookies: { keys: ['test-provider-cookie-key-0123456789'] },
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      async findAccount(_ctx, sub) {
        const u = users.get(sub);
        if (!u) return undefined;
        return {
          accountId: sub,
          // Read at each token: a group taken away shows at the next sign-in.
          claims: async () => ({
            sub,
            preferred_username: u.username,
            email: u.email,
            groups: [...u.groups],
          }),
        };
      },
      async loadExistingGrant(ctx: KoaContextWithOIDC) {
        const accountId = ctx.oidc.session?.accountId;
        if (!accountId || !ctx.oidc.client) return undefined;
        const grant = new ctx.oidc.provider.Grant({
          clientId: ctx.oidc.client.clientId,
          accountId,
        });
        grant.addOIDCScope('openid profile email groups');
        grant.addOIDCClaims(['preferred_username', 'email', 'groups']);
        await grant.save();
        return grant;
      },
    });
    return this;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = this.#provider!;
    if (req.url?.startsWith('/interaction/')) {
      try {
        await provider.interactionDetails(req, res);
        const u = this.users.get(this.signInAs);
        if (!u) throw new Error(`no test user ${this.signInAs}`);
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: u.sub, amr: u.amr, remember: false } },
          { mergeWithLastSubmission: false },
        );
      } catch (e) {
        res.statusCode = 500;
        res.end(String((e as Error).message));
      }
      return;
    }
    provider.callback()(req, res);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.closeAllConnections();
      this.#server.close(() => resolve());
    });
  }
}
