import { expect, test, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { startStandin, type Standin } from '../support/standin/server.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The dashboard's source cards and the policy editor's preview against a
 * real `serve` and the stand-in: capture runs, the first snapshot is taken,
 * documents are written; the card must show the live recovery point, the
 * PITR window, storage with its uPlot trend and "no restore test yet", and
 * the preview its calendar and estimate. Screenshots of both, light and
 * dark, go to test-results/screens/; no CSP violation is allowed (uPlot
 * styles its elements through the CSSOM, its stylesheet is bundled).
 */
const root = join(import.meta.dirname, '..', '..');
const screens = join(root, 'test-results', 'screens');
let dir: ReturnType<typeof tempDir>;
let serve: ServeProcess;
let standin: Standin;

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
  mkdirSync(screens, { recursive: true });
  dir = tempDir('mbm-e2e-dash-cards-');
  standin = await startStandin({ noopIntervalMs: 1000 });
  expect((await cli('repo', 'init', '--path', join(dir.path, 'repo'))).status).toBe(0);
  const added = await cli('source', 'add', '--name', 'prod-rs', '--uri', standin.uri);
  expect(added.status, added.stderr).toBe(0);
  // A segment every second, so the card's figures move while the test watches.
  const policy = await cli('backup-job', 'set', '--source', 'prod-rs', '--policy', '{"segmentSeconds":1}');
  expect(policy.status, policy.stderr).toBe(0);
  serve = await startServe(join(dir.path, 'data'));
  const client = await MongoClient.connect(standin.uri);
  await client
    .db('shop')
    .collection('orders')
    .insertMany(Array.from({ length: 500 }, (_, k) => ({ k, note: 'x'.repeat(200) })));
  await client.close();
});
test.afterAll(async () => {
  await serve?.stop();
  await standin?.stop();
  dir?.remove();
});

async function watchCsp(page: Page) {
  await page.addInitScript(() => {
    (window as unknown as { cspViolations: string[] }).cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { cspViolations: string[] }).cspViolations.push(
        `${e.violatedDirective} ${e.blockedURI}`,
      ),
    );
  });
}
const cspViolations = (page: Page) =>
  page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);

test('the source card and the schedule preview, in the light and the dark theme', async ({ page }) => {
  test.setTimeout(150_000);
  await watchCsp(page);
  await page.setViewportSize({ width: 1360, height: 1000 });
  await page.goto(serve.url);

  const card = page.getByRole('region', { name: 'Protection of prod-rs' });
  await expect(card.getByTestId('capture-state')).toHaveText('capturing', { timeout: 30_000 });
  await expect(card.getByTestId('job-state')).toHaveText('job active');
  // The scheduler's first pass takes the first snapshot (every tier due at once).
  await expect(card.getByTestId('last-snapshot')).toContainText('ago', { timeout: 40_000 });
  await expect(card.getByTestId('recovery-point')).toContainText(/\d+ s \(objective 60 s\)/);
  await expect(card.getByTestId('next-snapshot')).toContainText(/in \d+ (s|min)|just now/);
  await expect(card.getByTestId('restore-test')).toHaveText('no restore test yet');
  await expect(card.getByTestId('pitr-window')).toContainText(/of 72 h covered/, { timeout: 60_000 });
  await expect(card.getByTestId('storage-used')).toContainText(/snapshots \d.* (B|KiB|MiB), oplog/);
  const trend = card.getByRole('img', {
    name: /^Storage held per day by prod-rs\. Held on \d{4}-\d\d-\d\d: \d/,
  });
  await expect(trend).toBeVisible({ timeout: 70_000 });
  await expect(trend.locator('canvas')).toHaveCount(1);
  await expect(trend.locator('.u-legend')).toContainText('oplog');
  // uPlot's stylesheet is in the bundle: its legend is laid out as a table, not unstyled text.
  await expect(trend.locator('.u-legend')).toHaveCSS('text-align', 'center');
  expect(await cspViolations(page)).toEqual([]);

  for (const theme of ['light', 'dark'] as const) {
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Theme').selectOption(theme);
    await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', theme);
    // Mantine's scheme switch itself writes a <style> (transitions off), refused by the CSP: that is the
    // Settings section's; what is checked here is that the card and the preview add none.
    await page.evaluate(() => ((window as unknown as { cspViolations: string[] }).cspViolations = []));
    await page.getByRole('tab', { name: 'Dashboard' }).click();
    await expect(card.getByRole('img', { name: /Storage held per day/ }).locator('canvas')).toHaveCount(1);
    await page.screenshot({ path: join(screens, `dashboard-cards-${theme}.png`), fullPage: true });

    await page.getByRole('tab', { name: 'Sources' }).click();
    const job = page.getByTestId('job-prod-rs');
    await job.getByRole('button', { name: 'Edit policy' }).click();
    const preview = job.getByRole('region', { name: 'Preview of this policy' });
    await expect(preview.getByTestId('preview-summary')).toContainText(/snapshot\(s\) kept: .*monthly/, {
      timeout: 20_000,
    });
    await expect(
      preview.getByRole('table', { name: /^Snapshots that exist on \d{4}-\d\d-\d\d/ }),
    ).toBeVisible();
    await expect(preview.getByTestId('preview-storage')).toContainText(/Estimated storage then: \d/);
    // Switching the hourly tier off is previewed before anything is saved.
    await job.getByTestId('tier-hourly').getByRole('checkbox').uncheck();
    await expect(preview.getByTestId('preview-summary')).not.toContainText('hourly');
    await expect(preview.getByLabel('Updating the preview')).toHaveCount(0);
    await job.screenshot({ path: join(screens, `schedules-preview-${theme}.png`) });
    await job.getByRole('button', { name: 'Cancel' }).click();
    expect(await cspViolations(page)).toEqual([]);
  }
});
