// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/** The renderer talks to the engine only through the API client (DESIGN.md). */
const RENDERER_IMPORTS = [
  {
    group: ['node:*', 'fs', 'path', 'child_process', 'better-sqlite3', 'mongodb', 'electron'],
    message: 'The renderer may not use Node, database or Electron modules.',
  },
  {
    group: [
      '**/engine/*',
      '!**/engine/api',
      '**/engine/api/*',
      '!**/engine/api/contract',
      '!**/engine/api/client',
    ],
    message: 'Import only the API contract and client types from engine/api.',
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'release/', 'node_modules/', 'test-results/', 'playwright-report/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,cts,mts,js,mjs,cjs}'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}', 'test/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', { patterns: RENDERER_IMPORTS }],
    },
  },
  {
    // Components read the slices; only the slices (*.ts) talk to the engine.
    files: ['renderer/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...RENDERER_IMPORTS,
            {
              group: ['**/app/connection-store'],
              importNames: ['engine'],
              message: 'Components fetch through their feature slice, never with the client directly.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The engine never imports Electron.' }],
          patterns: [
            { group: ['**/test/support/*'], message: 'Test infrastructure is never imported by the engine.' },
          ],
        },
      ],
    },
  },
  {
    // SQL lives in engine/catalog/, one file per table family (DESIGN.md): elsewhere, call a function there.
    files: ['engine/**/*.ts'],
    ignores: ['engine/catalog/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='prepare']",
          message: 'SQL lives in engine/catalog/: add or use a function of the table family there.',
        },
        {
          selector:
            'CallExpression[callee.property.name=/^(exec|pragma)$/]:matches([callee.object.name=/^(db|catalog)$/], [callee.object.property.name=/^(db|catalog)$/])',
          message: 'SQL lives in engine/catalog/: add or use a function of the table family there.',
        },
      ],
    },
  },
);
