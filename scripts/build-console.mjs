#!/usr/bin/env node
// Builds the operator console into dist/console: one ES module bundle (Preact and the pages), one
// stylesheet and the page (49 kB of script, 16 kB gzipped). No CDN and no fonts: it must work on a bank's closed network.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

const out = 'dist/console';
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['console/src/main.tsx'],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: `${out}/app.js`,
  logLevel: 'warning',
});
copyFileSync('console/styles.css', `${out}/app.css`);
copyFileSync('console/index.html', `${out}/index.html`);
