import { expect, test } from '@playwright/test';
import { addSourceByCli, startWorkspace, type E2eWorkspace } from '../support/e2e-workspace.js';
import { reportFailures } from '../support/failure-report.js';

let env: E2eWorkspace;
test.beforeAll(async () => {
  // The server starts capture and the scheduler for active jobs.
  env = await startWorkspace('mbm-e2e-dash-', {
    beforeServe: (w) => addSourceByCli(w, 'prod-rs', w.standins[0]!.uri),
  });
});
test.afterAll(async () => env?.stop());
reportFailures(() => env?.serve);

test('the dashboard shows each source with live capture, recovery point, snapshot and coverage', async ({
  page,
}) => {
  await page.goto(env.serve.url);
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
  await page.goto(env.serve.url);
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
