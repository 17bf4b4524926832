import { expect, test, type Page } from '@playwright/test';
import { addSourceByCli, startWorkspace, type E2eWorkspace } from '../support/e2e-workspace.js';
import { reportFailures } from '../support/failure-report.js';

/**
 * A screenshot of every section in the light and the dark theme, with data
 * in it (a protected source, a failed one and its alert), saved to
 * test-results/screens/ for a person to look at. The test also checks that
 * each section shows its data, so a screenshot of an empty or broken page
 * fails instead of being saved quietly.
 */
let env: E2eWorkspace;
test.beforeAll(async () => {
  env = await startWorkspace('mbm-e2e-screens-', {
    standins: [{ noopIntervalMs: 1000 }, { noopIntervalMs: 1000 }],
    beforeServe: async (w) => {
      await addSourceByCli(w, 'prod-rs', w.standins[0]!.uri);
      await addSourceByCli(w, 'reporting', w.standins[1]!.uri);
    },
  });
});
test.afterAll(async () => env?.stop());
reportFailures(() => env?.serve);

/** What each section must show before its picture is taken. */
const SECTIONS: [tab: string, ready: (page: Page) => Promise<void>][] = [
  [
    'Dashboard',
    async (page) => {
      const card = page.getByTestId('source-card-prod-rs');
      await expect(card.getByTestId('capture-state')).toHaveText('capturing', { timeout: 30_000 });
      await expect(card.getByTestId('last-snapshot')).not.toContainText('none yet', { timeout: 30_000 });
    },
  ],
  [
    'Sources',
    async (page) => {
      await expect(page.getByTestId('job-prod-rs').getByTestId('job-state')).toHaveText('active');
      await expect(page.getByTestId('source-prod-rs').getByTestId('probe-report')).toBeVisible();
    },
  ],
  [
    'Timeline',
    async (page) =>
      expect(page.getByTestId('timeline-description')).toContainText(/prod-rs: capture running.*reporting:/, {
        timeout: 30_000,
      }),
  ],
  ['Restores', async (page) => expect(page.getByRole('tabpanel')).toContainText('No restores yet')],
  [
    'Alerts',
    async (page) => expect(page.getByRole('table', { name: 'Alerts' })).toContainText('BACKUP_FAILED'),
  ],
  ['Settings', async (page) => expect(page.getByTestId('repository')).toContainText('not encrypted')],
];

test('every section, in the light and the dark theme', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1360, height: 900 });
  await page.goto(env.serve.url);
  // Data for the pictures: a connection test on prod-rs, and a failed snapshot (an alert) on reporting.
  await page.getByRole('tab', { name: 'Sources' }).click();
  await page.getByTestId('source-prod-rs').getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('source-prod-rs').getByTestId('probe-report')).toBeVisible();
  await env.standins[1]!.stop();
  await page.getByTestId('job-reporting').getByRole('button', { name: 'Take a snapshot now' }).click();
  await expect(page.getByRole('tab', { name: /Alerts/ })).toHaveText(/^Alerts\d+$/, { timeout: 30_000 });

  for (const theme of ['light', 'dark'] as const) {
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Theme').selectOption(theme);
    await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', theme);
    for (const [tab, ready] of SECTIONS) {
      await page.getByRole('tab', { name: tab }).click();
      await expect(page.getByRole('heading', { level: 2 })).toHaveText(tab);
      await ready(page);
      await page.screenshot({ path: env.screen(`${tab.toLowerCase()}-${theme}.png`), fullPage: true });
    }
    // The two larger pieces of the Sources section: the policy editor and a confirmation dialog.
    await page.getByRole('tab', { name: 'Sources' }).click();
    const job = page.getByTestId('job-prod-rs');
    await job.getByRole('button', { name: 'Edit policy' }).click();
    await expect(job.getByRole('form', { name: 'Backup policy of prod-rs' })).toBeVisible();
    await job.screenshot({ path: env.screen(`sources-policy-${theme}`) });
    await job.getByRole('button', { name: 'Cancel' }).click();
    await job.getByRole('button', { name: 'Terminate…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Terminate the backup job of prod-rs' });
    await expect(dialog).toBeVisible();
    await expect(dialog).toHaveCSS('opacity', '1'); // its fade-in is over
    await expect(page.locator('.mantine-Modal-overlay')).toHaveCSS('opacity', '1');
    await page.screenshot({ path: env.screen(`sources-dialog-${theme}`) });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toHaveCount(0);
  }
});
