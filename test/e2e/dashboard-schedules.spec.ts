import { expect, test } from '@playwright/test';
import { MongoClient } from 'mongodb';
import { addSourceByCli, startWorkspace, watchCsp, type E2eWorkspace } from '../support/e2e-workspace.js';
import { reportFailures } from '../support/failure-report.js';

/**
 * The dashboard's source cards and the policy editor's preview against a
 * real `serve` and the stand-in: capture runs, the first snapshot is taken,
 * documents are written; the card must show the live recovery point, the
 * PITR window, storage with its uPlot trend and "no restore test yet", and
 * the preview its calendar and estimate. Screenshots of both, light and
 * dark, go to test-results/screens/; no CSP violation is allowed (uPlot
 * styles its elements through the CSSOM, its stylesheet is bundled).
 */
let env: E2eWorkspace;

test.beforeAll(async () => {
  env = await startWorkspace('mbm-e2e-dash-cards-', {
    // A segment every second, so the card's figures move while the test watches.
    beforeServe: (w) => addSourceByCli(w, 'prod-rs', w.standins[0]!.uri, { segmentSeconds: 1 }),
  });
  const client = await MongoClient.connect(env.standins[0]!.uri);
  await client
    .db('shop')
    .collection('orders')
    .insertMany(Array.from({ length: 500 }, (_, k) => ({ k, note: 'x'.repeat(200) })));
  await client.close();
});
test.afterAll(async () => env?.stop());
reportFailures(() => env?.serve);

test('the source card and the schedule preview, in the light and the dark theme', async ({ page }) => {
  test.setTimeout(150_000);
  const csp = await watchCsp(page);
  await page.setViewportSize({ width: 1360, height: 1000 });
  await page.goto(env.serve.url);

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
  expect(await csp.violations()).toEqual([]);

  for (const theme of ['light', 'dark'] as const) {
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Theme').selectOption(theme);
    await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', theme);
    // Mantine's scheme switch itself writes a <style> (transitions off), refused by the CSP: that is the
    // Settings section's; what is checked here is that the card and the preview add none.
    await csp.clear();
    await page.getByRole('tab', { name: 'Dashboard' }).click();
    await expect(card.getByRole('img', { name: /Storage held per day/ }).locator('canvas')).toHaveCount(1);
    await page.screenshot({ path: env.screen(`dashboard-cards-${theme}`), fullPage: true });

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
    await job.screenshot({ path: env.screen(`schedules-preview-${theme}`) });
    await job.getByRole('button', { name: 'Cancel' }).click();
    expect(await csp.violations()).toEqual([]);
  }
});
