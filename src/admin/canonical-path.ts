// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const FORBIDDEN = /[\u0000-\u001f\u007f/\\]/;

/**
 * Whether a request target's path is spelled the one way this listener's routes are spelled.
 *
 * The router decodes percent-escapes, ignores what follows `;` and may treat other spellings as
 * equal (RFC 3986 §6.2.2: case and percent-encoding normalisation). Anything decided on the raw
 * URL could then disagree with the route that runs, so a path that is not already in its one
 * canonical form is refused before routing, whatever it would have matched:
 * - every segment is non-empty (no `//`, no trailing `/` but the root itself) and is neither `.`
 *   nor `..` (RFC 3986 §5.2.4 would remove them);
 * - each segment equals `encodeURIComponent(decodeURIComponent(segment))`: unreserved characters
 *   are never escaped (`%61` for `a`), reserved ones always are (`;`, `%2F` stays `%2F`, `%2f`
 *   does not), with upper-case hex digits (§2.1), and no malformed escape;
 * - no control character, and no escaped `/` or `\` inside a segment: no route or identifier
 *   here has one, and a proxy in front may take them for separators.
 *
 * The query string is not looked at: routes read it through their schemas.
 */
export function isCanonicalPath(url: string): boolean {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === '/') return true;
  if (!path.startsWith('/')) return false;
  for (const segment of path.slice(1).split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return false;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return false;
    }
    if (
      decoded === '.' ||
      decoded === '..' ||
      FORBIDDEN.test(decoded) ||
      encodeURIComponent(decoded) !== segment
    )
      return false;
  }
  return true;
}
