/**
 * The layer rules of DESIGN.md, checked on the import graph (type imports
 * included): `npm run depcruise`, and part of `npm test`'s lint step.
 * ESLint checks the same boundaries file by file; this checks the graph as a
 * whole, which is the only way to see a cycle.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment:
        'No import cycle, type imports included: a cycle means two rooms lean on each other; give one of them a narrow service instead (docs/PATTERNS.md).',
      from: { path: '^(engine|electron|renderer|scripts)/' },
      to: { circular: true },
    },
    {
      name: 'engine-not-to-electron',
      severity: 'error',
      comment: 'The engine is plain Node: it never imports Electron, the desktop shell or the renderer.',
      from: { path: '^engine/' },
      to: { path: ['^electron/', '^renderer/', '(^|/)node_modules/electron/'] },
    },
    {
      name: 'engine-not-to-test',
      severity: 'error',
      comment: 'Test infrastructure is never imported by the engine.',
      from: { path: '^engine/' },
      to: { path: '^test/' },
    },
    {
      name: 'renderer-only-api-contract',
      severity: 'error',
      comment: 'The renderer talks to the engine only through the API contract and client types.',
      from: { path: '^renderer/' },
      to: { path: '^engine/', pathNot: '^engine/api/(contract|client)\\.ts$' },
    },
    {
      name: 'renderer-no-node',
      severity: 'error',
      comment: 'The renderer runs sandboxed in a browser: no Node, database or Electron modules.',
      from: { path: '^renderer/' },
      to: {
        dependencyTypes: ['core'],
      },
    },
    {
      name: 'renderer-no-backend-packages',
      severity: 'error',
      from: { path: '^renderer/' },
      to: { path: '(^|/)node_modules/(better-sqlite3|mongodb|electron)/' },
    },
    {
      name: 'lower-layers-not-to-api',
      severity: 'error',
      comment:
        'The repository, catalog and store never import the API layer (commands, handlers, dispatch); they may use the shared shapes of engine/api/schemas.ts only as types.',
      from: { path: '^engine/(repo|catalog|store)/' },
      to: { path: '^engine/api/', pathNot: '^engine/api/schemas\\.ts$' },
    },
    {
      name: 'repo-not-to-catalog',
      severity: 'error',
      comment: 'The repository on disk is the truth and knows nothing of the catalog that indexes it.',
      from: { path: '^engine/repo/' },
      to: { path: '^engine/(catalog|store|api)/' },
    },
    {
      name: 'only-composition-root-imports-engine',
      severity: 'error',
      comment:
        'Handlers and services receive narrow services, never the Engine: only the doors (CLI, headless, desktop) and tests hold it.',
      from: { path: '^engine/', pathNot: '^engine/(cli|serve)\\.ts$|^engine/(server|cli)/' },
      to: { path: '^engine/engine\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|release|node_modules|\\.cache)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.cts', '.mts', '.js', '.mjs', '.cjs'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
