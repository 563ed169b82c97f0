#!/usr/bin/env node
// Fails when folders of src/ import each other, directly (a pair) or round a longer loop. A
// folder counts with everything under it (src/risk/ includes src/risk/rules/), and each file
// directly in src/ (the entry files, errors.ts, logger.ts) counts as one of its own.
// dependency-cruiser's folder-scoped rules see only each file's own folder, so a loop through a
// subfolder would slip past them. Run by `npm run lint`, after depcruise.
import { execFileSync } from 'node:child_process';

const json = execFileSync(
  process.execPath,
  [
    'node_modules/dependency-cruiser/bin/dependency-cruise.mjs',
    'src',
    '--config',
    '.dependency-cruiser.cjs',
    '--output-type',
    'json',
  ],
  { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
);
const { modules } = JSON.parse(json);

/** `src/risk/` for anything under it; a file directly in src/ is its own unit. */
const unitOf = (path) => {
  const m = /^src\/([^/]+)(\/)?/.exec(path);
  if (!m) return undefined;
  return m[2] ? `src/${m[1]}/` : path;
};

/** unit → unit → one import that makes the edge (for the message). */
const edges = new Map();
for (const m of modules) {
  const from = unitOf(m.source);
  if (!from) continue;
  for (const d of m.dependencies) {
    const to = unitOf(d.resolved);
    if (!to || to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${m.source} → ${d.resolved}`);
  }
}

// Tarjan's strongly connected components: a component of more than one unit is a loop.
const units = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((t) => [...t.keys()])])];
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const loops = [];
let next = 0;
function visit(v) {
  index.set(v, next);
  low.set(v, next);
  next++;
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) loops.push(component.sort());
  }
}
for (const u of units.sort()) if (!index.has(u)) visit(u);

if (loops.length === 0) {
  console.log(`✔ no folders of src/ import each other (${units.length} folders and files)`);
  process.exit(0);
}
for (const loop of loops) {
  const inLoop = new Set(loop);
  const pairs = loop.flatMap((a) =>
    loop
      .filter((b) => a < b && edges.get(a)?.has(b) && edges.get(b)?.has(a))
      .map((b) => `${a} ↔ ${b}`),
  );
  console.error(`✘ these import each other: ${loop.join(', ')}`);
  if (pairs.length > 0) console.error(`  pairs: ${pairs.join(', ')}`);
  for (const from of loop)
    for (const [to, example] of edges.get(from) ?? [])
      if (inLoop.has(to)) console.error(`    ${from} → ${to}  (e.g. ${example})`);
}
console.error(
  `\n${loops.length} loop(s) between folders of src/: move what both need down a layer (docs/architecture.md).`,
);
process.exit(1);
