import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { startStandin, type Standin } from '../support/standin/server.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '..', '..');
let dir: ReturnType<typeof tempDir>;
let serve: ServeProcess;
let standin: Standin;

/** Asynchronous on purpose: the stand-in runs in this process and must keep answering. */
const cli = (...args: string[]) =>
  new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'engine', 'cli.ts'), ...args, '--data-dir', join(dir.path, 'data')],
      { cwd: root },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stderr }));
  });

test.beforeAll(async () => {
  dir = tempDir('mbm-e2e-dash-');
  standin = await startStandin({ noopIntervalMs: 1000 });
  expect((await cli('repo', 'init', '--path', join(dir.path, 'repo'))).status).toBe(0);
  const added = await cli('source', 'add', '--name', 'prod-rs', '--uri', standin.uri);
  expect(added.status, added.stderr).toBe(0);
  serve = await startServe(join(dir.path, 'data')); // starts capture and the scheduler for active jobs
});
test.afterAll(async () => {
  await serve?.stop();
  await standin?.stop();
  dir?.remove();
});

test('the dashboard shows each source with live capture, recovery point, snapshot and coverage', async ({
  page,
}) => {
  await page.goto(serve.url);
  const card = page.getByTestId('source-card-prod-rs');
  await expect(card).toBeVisible();
  await expect(card.getByTestId('capture-state')).toHaveText('capturing', { timeout: 20_000 });
  // The scheduler's first pass takes the job's first snapshot; coverage appears as capture writes segments.
  await expect(card.getByTestId('last-snapshot')).not.toContainText('none yet', { timeout: 30_000 });
  await expect(card.getByTestId('pitr-window')).toContainText(/of 72 h covered .* restorableno gap/, {
    timeout: 90_000,
  });
  await expect(card.getByTestId('oplog-window')).toContainText(/^\d+\.\d h \(measured \d{4}-/);
  await page.getByRole('tab', { name: 'Sources' }).click();
  await expect(page.getByRole('tabpanel')).toContainText('prod-rs');
  await expect(page.getByRole('tabpanel')).toContainText('127.0.0.1');
});

test('the Sources section shows the backup job in UTC with local time, and stops and starts it', async ({
  page,
}) => {
  await page.goto(serve.url);
  await page.getByRole('tab', { name: 'Sources' }).click();
  const job = page.getByTestId('job-prod-rs');
  await expect(job.getByTestId('job-state')).toHaveText('active');
  await expect(job).toContainText('daily: at 03:00 UTC');
  await expect(job).toContainText('kept 7 days');
  await expect(job).toContainText('point-in-time window: 72 h');
  await job.getByRole('button', { name: 'Stop backups' }).click();
  await expect(job.getByTestId('job-state')).toHaveText('stopped');
  await job.getByRole('button', { name: 'Start backups' }).click();
  await expect(job.getByTestId('job-state')).toHaveText('active');
  await job.getByRole('button', { name: 'Take a snapshot now' }).click();
  await expect(job.getByRole('status')).toHaveText('Snapshot started.');
});
