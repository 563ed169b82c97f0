/** Connected components over shared email or phone hashes: how many distinct enrollers. */
export function countEnrollers(
  keys: readonly { emailHash: string | null; phoneHash: string | null }[],
): number {
  const parent = keys.map((_, i) => i);
  const find = (i: number): number => {
    if (parent[i] === i) return i;
    const root = find(parent[i]!);
    parent[i] = root; // path compression
    return root;
  };
  const firstBy = new Map<string, number>();
  keys.forEach((k, i) => {
    for (const h of [k.emailHash && `e:${k.emailHash}`, k.phoneHash && `p:${k.phoneHash}`]) {
      if (!h) continue;
      const j = firstBy.get(h);
      if (j === undefined) firstBy.set(h, i);
      else parent[find(i)] = find(j);
    }
  });
  return new Set(keys.map((_, i) => find(i))).size;
}
