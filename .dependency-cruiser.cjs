/**
 * Who may import whom in src/ (docs/architecture.md explains the layers). Run by `npm run lint`,
 * with scripts/check-folder-cycles.mjs, which fails when folders of src/ import each other.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import cycles, type-only ones included.', from: {}, to: { circular: true } },
    {
      name: 'drivers-only-in-storage',
      severity: 'error',
      comment: 'Database drivers are used in src/storage/ only; everything else sees the store interfaces.',
      from: { path: '^src/', pathNot: '^src/storage/' },
      to: { path: 'node_modules/(better-sqlite3|pg)/' },
    },
    {
      name: 'dialects-behind-the-interface',
      severity: 'error',
      comment: 'Above storage/, only the interfaces and openStore: never a dialect file.',
      from: { path: '^src/', pathNot: '^src/storage/' },
      to: { path: '^src/storage/(sqlite|postgres)[-/]' },
    },
    {
      name: 'storage-below-everything',
      severity: 'error',
      comment: 'Storage knows no transport, pipeline, sink, admin or CLI code (only shared types).',
      from: { path: '^src/storage/' },
      to: { path: '^src/(http|admin|cli|pipeline|delivery|retention|app|server|runtime)' },
    },
    {
      name: 'pipeline-knows-no-transport',
      severity: 'error',
      comment: 'The pipeline is transport-neutral: no HTTP, admin, CLI or sink code.',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/(http|admin|cli|delivery|app|server|runtime)' },
    },
    {
      name: 'transport-does-not-reach-sideways',
      severity: 'error',
      comment: 'The Visa transport (http/) hands requests to the pipeline; it does not deliver, assess or administer.',
      from: { path: '^src/http/' },
      to: { path: '^src/(admin|cli|delivery|risk|storage)/' },
    },
    {
      name: 'no-upward-from-sinks',
      severity: 'error',
      comment: 'Sinks and the delivery worker know no transport, admin or CLI code.',
      from: { path: '^src/delivery/' },
      to: { path: '^src/(http|admin|cli|app|server)' },
    },
    {
      name: 'pkcs11-only-in-hsm',
      severity: 'error',
      comment: 'The PKCS#11 binding is used in src/hsm/ only; everything else sees DecryptionKey and HsmToken.',
      from: { path: '^src/', pathNot: '^src/hsm/' },
      to: { path: 'node_modules/pkcs11js/' },
    },
    {
      name: 'hsm-below-the-pipeline',
      severity: 'error',
      comment: 'The token code knows keys and PKCS#11, not requests, storage, sinks, operators or configuration.',
      from: { path: '^src/hsm/' },
      to: { path: '^src/(http|admin|cli|pipeline|delivery|risk|storage|retention|config|keys|app|server|runtime)' },
    },
    {
      name: 'entry-files-from-entries-only',
      severity: 'error',
      comment:
        'The files directly in src/ (but errors.ts and logger.ts, leaves) assemble the layers: only entry files import them.',
      from: { path: '^src/[^/]+/', pathNot: '^src/cli/' },
      to: { path: '^src/[^/]+\\.ts$', pathNot: '^src/(errors|logger)\\.ts$' },
    },
    {
      name: 'domain-is-a-leaf',
      severity: 'error',
      comment: 'The vocabulary (src/domain/) imports nothing of src/ but itself.',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'config-over-domain-only',
      severity: 'error',
      comment: 'Configuration is a leaf over the vocabulary: src/domain/ and the leaves only.',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/(config|domain|util|visa)/|^src/errors\\.ts$' },
    },
    {
      name: 'cli-is-an-entry',
      severity: 'error',
      comment: 'Only entry files import the CLI.',
      from: { path: '^src/', pathNot: '^src/(cli|cli\\.ts)' },
      to: { path: '^src/cli' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
