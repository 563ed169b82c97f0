/** Another spelling of a path, and what kind of trick it is. */
export interface Spelling {
  kind: string;
  path: string;
}

const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, '0');

/**
 * Other spellings of one path that a lenient router or proxy may take for it (RFC 3986 §6.2.2
 * normalisations, dot segments of §5.2.4, and what servers are known to strip): an escaped
 * letter in each segment (upper- and lower-case hex), an upper-case first segment, empty
 * segments, `.` and `..` (plain and escaped), a trailing slash, `;` parameters, an escaped
 * slash, a backslash. Never the path itself.
 */
export function spellings(path: string): Spelling[] {
  const segments = path === '/' ? [] : path.slice(1).split('/');
  const join = (s: string[]) => `/${s.join('/')}`;
  const out: Spelling[] = [];
  segments.forEach((seg, i) => {
    const with_ = (v: string) => join(segments.map((x, j) => (j === i ? v : x)));
    const first = seg.search(/[A-Za-z]/);
    if (first >= 0) {
      const c = seg[first]!;
      out.push({
        kind: `escaped letter, segment ${i + 1}`,
        path: with_(`${seg.slice(0, first)}%${hex(c).toUpperCase()}${seg.slice(first + 1)}`),
      });
    }
    const last = seg.length - 1;
    out.push({
      kind: `escaped last character (lower-case hex), segment ${i + 1}`,
      path: with_(`${seg.slice(0, last)}%${hex(seg[last]!)}`),
    });
  });
  if (segments.length > 0) {
    const [head, ...rest] = segments as [string, ...string[]];
    out.push({ kind: 'upper case', path: join([head.toUpperCase(), ...rest]) });
    out.push({ kind: 'trailing slash', path: `${path}/` });
    out.push({ kind: 'double slash inside', path: join([head, '', ...rest]) });
    out.push({ kind: 'dot segment', path: join([head, '.', ...rest]) });
    out.push({ kind: 'escaped dot segment', path: join([head, '%2e', ...rest]) });
    out.push({ kind: 'dot-dot segment', path: join([head, 'x', '..', ...rest]) });
    out.push({ kind: 'escaped dot-dot segment', path: join([head, 'x', '%2E%2E', ...rest]) });
    out.push({ kind: 'semicolon parameter', path: join([`${head};x=1`, ...rest]) });
    out.push({ kind: 'backslash', path: `/${segments.join('\\')}` });
  }
  if (segments.length > 1) {
    out.push({ kind: 'escaped slash', path: `/${segments.join('%2F')}` });
    out.push({ kind: 'escaped slash, lower case', path: `/${segments.join('%2f')}` });
  }
  out.push({ kind: 'double slash first', path: `/${path}` });
  out.push({ kind: 'leading dot segment', path: `/.${path}` });
  out.push({ kind: 'semicolon at the end', path: `${path};jsessionid=0` });
  out.push({ kind: 'escaped NUL at the end', path: `${path}%00` });
  const seen = new Set<string>([path]);
  return out.filter((s) => !seen.has(s.path) && seen.add(s.path));
}
