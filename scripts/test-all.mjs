#!/usr/bin/env node
/**
 * `npm test`: every check in order (typecheck, lint, build, unit and
 * integration tests with Vitest, browser and Electron tests with
 * Playwright; Electronegativity with the lint step), then one summary line `tests: N passed, N failed, N skipped`.
 * Exits non-zero when anything failed. Typecheck, lint and build count as one
 * test each so that their failure shows in the summary.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const cache = join(root, '.cache');
mkdirSync(cache, { recursive: true });
const npmBin = (name) => join(root, 'node_modules', '.bin', name);
const totals = { passed: 0, failed: 0, skipped: 0 };

function run(label, cmd, args, env = {}) {
  process.stdout.write(`\n=== ${label}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

function step(label, cmd, args) {
  const ok = run(label, cmd, args);
  if (ok) totals.passed++;
  else totals.failed++;
  return ok;
}

const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);

if (want('typecheck')) {
  for (const p of [
    'tsconfig.json',
    'renderer/tsconfig.json',
    'electron/tsconfig.json',
    'electron/tsconfig.preload.json',
  ]) {
    step(`typecheck ${p}`, npmBin('tsc'), ['-p', p, '--noEmit']);
  }
}
if (want('lint')) {
  step('eslint', npmBin('eslint'), ['.', '--max-warnings', '0']);
  step('prettier --check', npmBin('prettier'), ['--check', '.', '--log-level', 'warn']);
  // Electron misconfigurations and anti-patterns; accepted findings in electron/electronegativity-accepted.txt.
  step('electronegativity', 'node', [join(root, 'scripts', 'electronegativity.mjs')]);
}
let built = true;
if (want('unit') || want('e2e')) {
  built = step('build (renderer + main + preload)', 'npm', ['run', '--silent', 'build']);
}

if (want('unit')) {
  const out = join(cache, 'vitest.json');
  run('vitest (unit + integration)', npmBin('vitest'), [
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${out}`,
  ]);
  if (existsSync(out)) {
    const r = JSON.parse(readFileSync(out, 'utf8'));
    totals.passed += r.numPassedTests;
    totals.failed += r.numFailedTests + (r.numFailedTestSuites ?? 0);
    totals.skipped += r.numPendingTests + r.numTodoTests;
  } else totals.failed++;
}

if (want('e2e')) {
  const out = join(cache, 'playwright.json');
  if (!built) {
    totals.failed++;
  } else {
    run('playwright (browser + electron)', npmBin('playwright'), ['test', '--reporter=list,json'], {
      PLAYWRIGHT_JSON_OUTPUT_NAME: out,
    });
    if (existsSync(out)) {
      const s = JSON.parse(readFileSync(out, 'utf8')).stats;
      totals.passed += s.expected + (s.flaky ?? 0);
      totals.failed += s.unexpected;
      totals.skipped += s.skipped;
      if ((s.errors ?? 0) > 0) totals.failed++;
    } else totals.failed++;
  }
}

process.stdout.write(
  `\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
);
process.exit(totals.failed > 0 ? 1 : 0);
