import { ConfigError } from '../errors.js';
import type { Config } from './config-schema.js';

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * What the schema cannot say about `admin`: a TOTP key when local accounts must use a second
 * factor, and about `admin.oidc`: a provider over plain HTTP only on loopback (a
 * test provider; OpenID Connect Core §16.17 asks for TLS), each group mapped to issuers or to
 * every issuer (not both, not neither), issuers that are configured, each group once.
 * @throws ConfigError naming the field.
 */
export function checkAdmin(config: Config): void {
  if (config.admin && config.admin.localMfa !== 'optional' && config.admin.totpKey === undefined)
    throw new ConfigError(
      '/admin/totpKey',
      'required with localMfa "required" (32 random bytes, base64, in a file or an environment variable); or set /admin/localMfa to "optional"',
    );
  const oidc = config.admin?.oidc;
  if (!oidc) return;
  for (const [field, value] of [
    ['issuer', oidc.issuer],
    ['redirectUri', oidc.redirectUri],
  ] as const) {
    const url = new URL(value);
    if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname))
      throw new ConfigError(`/admin/oidc/${field}`, 'must be https:// (http:// only on loopback)');
  }
  const ids = new Set(config.issuers.map((i) => i.id));
  const seen = new Set<string>();
  oidc.groups.forEach((g, i) => {
    const at = `/admin/oidc/groups/${i}`;
    if ((g.issuers === undefined) === (g.allIssuers !== true))
      throw new ConfigError(at, 'give exactly one of "issuers" or "allIssuers": true');
    for (const id of g.issuers ?? [])
      if (!ids.has(id))
        throw new ConfigError(`${at}/issuers`, `"${id}" is not a configured issuer`);
    if (seen.has(g.group)) throw new ConfigError(`${at}/group`, 'each group is mapped once');
    seen.add(g.group);
  });
}
