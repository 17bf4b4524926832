import { expect, test } from '@playwright/test';
import { startWorkspace, submitNewSource, type E2eWorkspace } from '../support/e2e-workspace.js';
import { reportFailures } from '../support/failure-report.js';

/**
 * Everything a DBA does to sources, policies and alerts without the CLI:
 * add (tested first: a failure saves nothing), test, edit, change the policy
 * (a preset's minimum is enforced), see and acknowledge alerts, terminate and
 * remove. Runs in Chromium against the headless server.
 */
// One scenario: the first test adds prod-rs and the later ones edit, alert on and remove it; after a
// failure (a new worker, a new empty workspace) the rest are skipped rather than failed without it.
test.describe.configure({ mode: 'serial' });
let env: E2eWorkspace;
test.beforeAll(async () => {
  // Two stand-ins: the second goes away during a test.
  env = await startWorkspace('mbm-e2e-sources-', {
    standins: [{ noopIntervalMs: 1000 }, { noopIntervalMs: 1000 }],
  });
});
test.afterAll(async () => env?.stop());
reportFailures(() => env?.serve);
const standin = () => env.standins[0]!;
const flaky = () => env.standins[1]!;

test('adds a source from the UI only after testing it, then tests and edits it', async ({ page }) => {
  await page.goto(env.serve.url);
  await page.getByRole('tab', { name: 'Sources' }).click();
  await expect(page.getByRole('tabpanel')).toContainText('No sources yet');

  // Unreachable: the reason is shown and nothing is saved.
  const form = await submitNewSource(page, 'prod-rs', 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500');
  await expect(form.getByRole('alert')).toContainText(/reach|refused|ECONNREFUSED/i, { timeout: 15_000 });
  await form.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('source-prod-rs')).toHaveCount(0);

  await submitNewSource(page, 'prod-rs', standin().uri);
  await expect(page.getByRole('status').first()).toHaveText('Added prod-rs; its backup job is active.');
  const card = page.getByTestId('source-prod-rs');
  await expect(card.getByTestId('probe-report')).toContainText('replica set');
  await expect(card.getByTestId('probe-report')).toContainText('possible'); // point-in-time restore

  await card.getByRole('button', { name: 'Edit connection' }).click();
  const edit = page.getByRole('form', { name: 'Edit source prod-rs' });
  await edit.getByLabel('Read preference').selectOption('primaryPreferred');
  await edit.getByRole('button', { name: 'Test and save' }).click();
  await expect(card).toContainText('read preference primaryPreferred');

  await card.getByRole('button', { name: 'Test connection' }).click();
  await expect(card.getByTestId('probe-report')).toContainText('Server version');
  // The dashboard protects it at once: capture starts without a restart of the server.
  await page.getByRole('tab', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('source-card-prod-rs').getByTestId('capture-state')).toHaveText('capturing', {
    timeout: 20_000,
  });
});

test('edits the backup policy; a PCI-DSS minimum is enforced and the refusal shown', async ({ page }) => {
  await page.goto(env.serve.url);
  await page.getByRole('tab', { name: 'Sources' }).click();
  const job = page.getByTestId('job-prod-rs');
  await job.getByRole('button', { name: 'Edit policy' }).click();
  await job.getByRole('button', { name: 'Apply the PCI-DSS preset' }).click();
  await expect(job).toContainText('daily: at 03:00 UTC');
  await expect(job).toContainText('kept 90 days');

  await job.getByRole('button', { name: 'Edit policy' }).click();
  const daily = job.getByTestId('tier-daily');
  await daily.getByLabel('daily keep (days)').fill('30');
  await job.getByRole('button', { name: 'Save policy' }).click();
  // The engine's refusal of the save (the preview may also be saying, in its own alert, that saving would be refused).
  const refusal = job.getByRole('alert').filter({ hasNot: page.getByText('Saving would be refused') });
  await expect(refusal).toContainText('90 days');
  await daily.getByLabel('daily keep (days)').fill('120');
  await daily.getByLabel('daily time (UTC)').fill('02:30');
  await job.getByLabel('Point-in-time window (hours, up to 720)').fill('168');
  await job.getByTestId('tier-hourly').getByRole('checkbox').uncheck();
  await job.getByRole('button', { name: 'Save policy' }).click();
  await expect(job.getByRole('status')).toHaveText('Policy saved.');
  await expect(job).toContainText('daily: at 02:30 UTC');
  await expect(job).toContainText('kept 120 days');
  await expect(job).toContainText('point-in-time window: 168 h');
  await expect(job).not.toContainText('hourly:');

  // A tier switched on again starts from the engine's default policy (backup-job.defaults).
  await job.getByRole('button', { name: 'Edit policy' }).click();
  const hourly = job.getByTestId('tier-hourly');
  await hourly.getByRole('checkbox').check();
  await expect(hourly.getByLabel('hourly every (hours)')).toHaveValue('1');
  await expect(hourly.getByLabel('hourly keep (days)')).toHaveValue('2');
  await job.getByRole('button', { name: 'Cancel' }).click();
  await expect(job).not.toContainText('hourly:'); // nothing was saved
});

test('shows an alert as it is raised, and acknowledges it', async ({ page }) => {
  await page.goto(env.serve.url);
  await page.getByRole('tab', { name: 'Sources' }).click();
  await submitNewSource(page, 'flaky', flaky().uri);
  await expect(page.getByTestId('source-flaky')).toBeVisible();
  await flaky().stop(); // the server goes away: the next snapshot fails
  await page.getByTestId('job-flaky').getByRole('button', { name: 'Take a snapshot now' }).click();

  const alertsTab = page.getByRole('tab', { name: /Alerts/ });
  await expect(alertsTab).toContainText('1', { timeout: 30_000 });
  await alertsTab.click();
  const row = page.getByRole('table', { name: 'Alerts' }).getByRole('row').nth(1);
  await expect(row).toContainText('BACKUP_FAILED (critical)');
  await expect(row).toContainText('flaky');
  await row.getByRole('button', { name: /Acknowledge/ }).click();
  await expect(page.getByRole('tabpanel')).toContainText('No open alerts');
  await expect(alertsTab).not.toContainText('1');
  await page.getByLabel('Open alerts only').uncheck();
  await expect(page.getByRole('table', { name: 'Alerts' })).toContainText(/resolved \d{4}-/);
});

test('terminates a job deleting its backups, then removes the source', async ({ page }) => {
  await page.goto(env.serve.url);
  await page.getByRole('tab', { name: 'Sources' }).click();
  const card = page.getByTestId('source-prod-rs');
  // Confirmations are modal dialogs: the refusal is shown in the dialog and nothing is removed.
  await card.getByRole('button', { name: 'Remove…' }).click();
  const remove = page.getByRole('dialog', { name: 'Remove prod-rs' });
  await remove.getByRole('button', { name: 'Remove prod-rs' }).click();
  await expect(remove.getByRole('alert')).toContainText('terminate its backup job');
  await remove.getByRole('button', { name: 'Cancel' }).click();
  await expect(remove).toHaveCount(0);
  await expect(card).toBeVisible();

  await card.getByRole('button', { name: 'Terminate…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Terminate the backup job of prod-rs' });
  await dialog.getByLabel('Also delete its snapshots and oplog segments').check();
  await dialog.getByRole('button', { name: 'Terminate the job' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(card.getByTestId('job-state')).toHaveText('inactive');
  await expect(card.getByRole('status')).toContainText(/Terminated; deleted \d+ snapshot/);
  await card.getByRole('button', { name: 'Remove…' }).click();
  await page
    .getByRole('dialog', { name: 'Remove prod-rs' })
    .getByRole('button', { name: 'Remove prod-rs' })
    .click();
  await expect(page.getByTestId('source-prod-rs')).toHaveCount(0);
});
