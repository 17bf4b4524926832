#!/usr/bin/env node
/**
 * `npm test`: every check in order (typecheck, lint with ESLint and
 * dependency-cruiser, build, unit and integration tests with Vitest,
 * browser and Electron tests with Playwright; Electronegativity with the
 * lint step), then one summary line `tests: N passed, N failed, N skipped`.
 * Exits non-zero when anything failed. Typecheck, lint and build count as one
 * test each so that their failure shows in the summary.
 *
 * The checks before the tests (typecheck, lint, build) read the sources and write only dist/,
 * which none of the others reads, so they run side by side, one per core (at least two;
 * MBM_CHECK_JOBS sets another number); each one's output is printed whole when it ends.
 * Vitest and Playwright then run one after the other, each on the whole machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
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

/** One check with its output kept, printed whole when it ends; resolves to whether it passed. */
function check(label, cmd, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    let ended = false;
    const done = (ok, extra = '') => {
      if (ended) return; // 'error' may come before 'close'
      ended = true;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`\n=== ${label} (${seconds} s)\n`);
      process.stdout.write(Buffer.concat(out));
      if (extra) process.stdout.write(`${extra}\n`);
      if (ok) totals.passed++;
      else totals.failed++;
      resolve(ok);
    };
    child.on('error', (err) => done(false, String(err)));
    child.on('close', (code) => done(code === 0));
  });
}

/** Runs the checks `width` at a time, in the given order (longest first, so they end together). */
async function checks(list, width) {
  const results = new Map();
  let next = 0;
  const lane = async () => {
    while (next < list.length) {
      const c = list[next++];
      results.set(c.label, await check(c.label, c.cmd, c.args));
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, list.length) }, lane));
  return results;
}

const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);

const BUILD = 'build (renderer + main + preload)';
const typecheck = (p) => ({ label: `typecheck ${p}`, cmd: npmBin('tsc'), args: ['-p', p, '--noEmit'] });
const list = [];
// Longest first (CPU seconds measured on the 2-core machine: eslint 26, tsc 21, prettier 21, ...).
if (want('lint')) list.push({ label: 'eslint', cmd: npmBin('eslint'), args: ['.', '--max-warnings', '0'] });
if (want('typecheck')) list.push(typecheck('tsconfig.json'));
if (want('unit') || want('e2e')) list.push({ label: BUILD, cmd: 'npm', args: ['run', '--silent', 'build'] });
if (want('lint'))
  list.push({
    label: 'prettier --check',
    cmd: npmBin('prettier'),
    args: ['--check', '.', '--log-level', 'warn'],
  });
if (want('typecheck')) list.push(typecheck('renderer/tsconfig.json'), typecheck('electron/tsconfig.json'));
if (want('lint')) {
  // Layer rules and no import cycles, on the whole graph (.dependency-cruiser.cjs).
  list.push({ label: 'dependency-cruiser', cmd: 'npm', args: ['run', '--silent', 'depcruise'] });
}
if (want('typecheck')) list.push(typecheck('electron/tsconfig.preload.json'));
if (want('lint')) {
  // Electron misconfigurations and anti-patterns; accepted findings in electron/electronegativity-accepted.txt.
  list.push({
    label: 'electronegativity',
    cmd: 'node',
    args: [join(root, 'scripts', 'electronegativity.mjs')],
  });
}
const width = Number(process.env.MBM_CHECK_JOBS) || Math.max(2, availableParallelism());
const results = await checks(list, width);
const built = !results.has(BUILD) || results.get(BUILD);

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
