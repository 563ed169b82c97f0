/** A method and path pattern the router serves. */
export interface RouterRoute {
  method: string;
  path: string;
}

/**
 * Every route in Fastify's own `printRoutes({ commonPrefix: false })` tree: the router's list,
 * not one kept beside it, so a route registered any way at all shows up. Each line is a node at
 * depth (column of its branch mark) / 4 whose text continues its parent's path.
 */
export function routerRoutes(tree: string): RouterRoute[] {
  const out: RouterRoute[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([\s│]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    if (m[3]) for (const method of m[3].split(', ')) out.push({ method, path: stack.join('') });
  }
  return out;
}
