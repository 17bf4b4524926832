import { expect, test, type Page } from '@playwright/test';
import { join } from 'node:path';
import { MongoClient, type Document } from 'mongodb';
import { cliAsync } from '../support/cli-process.js';
import { addSourceByCli, startWorkspace, watchCsp, type E2eWorkspace } from '../support/e2e-workspace.js';
import { reportFailures } from '../support/failure-report.js';

/**
 * The restore wizard in Chromium against the headless server and a
 * stand-in with data: a refused point and its nearest restorable point, a
 * restore into a new database (renamed) whose validation report is green,
 * the history after a reload, and the in-place confirmation that refuses a
 * wrong name. A screenshot of each step goes to test-results/screens/.
 */
let env: E2eWorkspace;
const DB = 'shop';
type AnyDoc = Document & { _id: unknown };
const standinUri = () => env.standins[0]!.uri;

test.beforeAll(async () => {
  env = await startWorkspace('mbm-e2e-wizard-', {
    standins: [{ noopIntervalMs: 500 }],
    beforeServe: async (w) => {
      const client = new MongoClient(w.standins[0]!.uri);
      await client
        .db(DB)
        .collection<AnyDoc>('orders')
        .insertMany(Array.from({ length: 40 }, (_, k) => ({ _id: k, sku: `sku-${k}`, qty: k % 7 })));
      await client.db(DB).collection('orders').createIndex({ sku: 1 }, { unique: true });
      await client
        .db(DB)
        .collection<AnyDoc>('carts')
        .insertMany([{ _id: 1, items: ['a'] }]);
      await client.close();
      await addSourceByCli(w, 'prod-rs', w.standins[0]!.uri);
    },
  });
});
test.afterAll(async () => env?.stop());
reportFailures(() => env?.serve);

/** Fails the test on any Content-Security-Policy violation (the wizard must not need a looser policy). */
async function noCspViolations(page: Page) {
  const csp = await watchCsp(page);
  return async () => expect(await csp.violations()).toEqual([]);
}

const shot = (page: Page, name: string) => page.screenshot({ path: env.screen(name), fullPage: true });

/** A snapshot restorable from the oplog: taken once (from the Sources section), then captured through its consistent point. */
async function ensureRestorable(page: Page) {
  // Not restorable yet is an answer here, not a failure: the CLI's exit code is not checked.
  const json = async (...args: string[]) =>
    JSON.parse((await cliAsync(env.dataDir, [...args, '--json'])).stdout || '{}') as Record<string, unknown>;
  const ready = async () => {
    const coverage = await json('coverage', '--source', 'prod-rs');
    const plan = await json('plan', '--source', 'prod-rs', '--at', 'latest');
    return plan.restorable === true && ((coverage.intervals as unknown[] | undefined)?.length ?? 0) > 0;
  };
  if (await ready()) return;
  await page.getByRole('tab', { name: 'Sources' }).click();
  await page.getByTestId('job-prod-rs').getByRole('button', { name: 'Take a snapshot now' }).click();
  await expect.poll(ready, { timeout: 60_000, intervals: [1000] }).toBe(true);
}

/** The app at a restorable point, watched for CSP violations: what each test starts from. */
async function openRestorable(page: Page) {
  await page.setViewportSize({ width: 1360, height: 900 });
  const noViolations = await noCspViolations(page);
  await page.goto(env.serve.url);
  await ensureRestorable(page);
  return noViolations;
}

async function openWizard(page: Page) {
  await page.getByRole('tab', { name: 'Restores' }).click();
  await page.getByRole('button', { name: 'New restore…' }).click();
  const wizard = page.getByRole('region', { name: 'Restore wizard' });
  await wizard.getByLabel('Source', { exact: true }).click();
  await page.getByRole('option', { name: 'prod-rs' }).click();
  return wizard;
}

test('the wizard restores into a new database and shows a green report; the history survives a reload', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const noViolations = await openRestorable(page);

  const wizard = await openWizard(page);
  // The date-time picker (with seconds) in its dropdown.
  await wizard.getByRole('radio', { name: 'Date and time' }).check();
  await wizard.getByLabel("Date and time (this computer's time zone)").click();
  const dropdown = page.getByRole('dialog', { name: /^Date and time/ });
  await expect(dropdown).toBeVisible();
  await expect(dropdown.getByLabel('Seconds')).toBeVisible();
  await expect(dropdown).toHaveCSS('opacity', '1'); // its fade-in is over
  await shot(page, 'restore-wizard-1-point-datetime-light');
  await page.keyboard.press('Escape');
  await expect(dropdown).toHaveCount(0);
  // A point long before anything was captured: refused, with the nearest restorable point after it.
  await wizard.getByRole('radio', { name: 'Oplog timestamp' }).check();
  await wizard.getByLabel('Oplog timestamp (t:i)').fill('1000:1');
  const plan = wizard.getByTestId('plan');
  await expect(plan).toContainText('Not restorable: Before the backup window');
  const after = plan.getByRole('button', { name: /^After:/ });
  await expect(after).toBeVisible({ timeout: 15_000 });
  await expect(wizard.getByRole('button', { name: 'Next' })).toBeDisabled();
  await shot(page, 'restore-wizard-1-point-refused-light');
  await after.click();
  await expect(plan).toContainText('Restorable');
  // The snapshot list is the other way to choose; the plan is the same snapshot's.
  await wizard.getByRole('radio', { name: 'A snapshot' }).check();
  await wizard.getByLabel('Snapshot', { exact: true }).click();
  await page.getByRole('option').first().click();
  await expect(plan).toContainText('Restorable');
  await expect(plan).toContainText('41 documents');
  await shot(page, 'restore-wizard-1-point-light');
  await wizard.getByRole('button', { name: 'Next' }).click();

  await expect(wizard.getByRole('radio', { name: 'Into a throwaway local mongod' })).toBeVisible();
  await wizard.getByLabel('Target connection string').fill(standinUri());
  await shot(page, 'restore-wizard-2-kind-light');
  await wizard.getByRole('button', { name: 'Next' }).click();

  const tree = wizard.getByTestId('namespace-tree');
  await expect(tree.getByLabel(`${DB}.orders`)).toBeChecked();
  await expect(tree).toContainText('40 documents');
  await wizard.getByRole('button', { name: 'Add a rename' }).click();
  await wizard.getByLabel('Rename 1 from').fill(`${DB}.$coll$`);
  await wizard.getByLabel('Rename 1 to').fill(`${DB}_restored.$coll$`);
  await shot(page, 'restore-wizard-3-options-light');
  await wizard.getByRole('button', { name: 'Next' }).click();

  const statement = wizard.getByTestId('review-statement');
  await expect(statement).toContainText(`Into the deployment at ${standinUri()}`);
  await expect(statement).toContainText(`Renamed on the way: ${DB}.$coll$ becomes ${DB}_restored.$coll$.`);
  await shot(page, 'restore-wizard-4-review-light');
  await wizard.getByRole('button', { name: 'Start the restore' }).click();

  await expect(wizard.getByTestId('restore-progress')).toBeVisible();
  await shot(page, 'restore-wizard-5-progress-light');
  const report = wizard.getByTestId('restore-report');
  await expect(report).toBeVisible({ timeout: 60_000 });
  await expect(report).toHaveAttribute('data-outcome', 'validated');
  await expect(report).toContainText('Validation passed');
  for (const check of ['collections', 'counts', 'indexes', 'options', 'documents'])
    await expect(report.getByTestId(`check-${check}`)).toHaveAttribute('data-passed', 'true');
  await expect(report.getByRole('table', { name: 'Recovery time per phase' })).toContainText(
    'copying documents',
  );
  await shot(page, 'restore-wizard-6-report-light');

  // The restored database is there, renamed, with its documents and the unique index.
  const client = new MongoClient(standinUri());
  expect(await client.db(`${DB}_restored`).collection('orders').countDocuments()).toBe(40);
  const indexes = await client.db(`${DB}_restored`).collection('orders').listIndexes().toArray();
  expect(indexes.find((ix) => ix.name === 'sku_1')?.unique).toBe(true);
  await client.close();

  // The report as a file: the browser downloads it from a Blob, and it is the HTML checklist.
  const download = page.waitForEvent('download');
  await report.getByRole('button', { name: 'Export HTML' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^restore-prod-rs-[0-9a-f]{8}\.html$/);

  // History comes from the catalog: it is still there after a reload, with its report.
  await page.reload();
  await page.getByRole('tab', { name: 'Restores' }).click();
  const history = page.getByRole('table', { name: 'Restore history' });
  await expect(history.getByRole('row')).toHaveCount(2);
  await expect(history).toContainText('validated');
  await expect(history).toContainText('new target');
  await page.getByRole('tab', { name: 'Settings' }).click();
  await page.getByLabel('Theme').selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
  await page.getByRole('tab', { name: 'Restores' }).click();
  await history.getByRole('button', { name: /^Report of prod-rs/ }).click();
  await expect(page.getByTestId('history-report')).toContainText('Validation passed');
  await shot(page, 'restore-history-report-dark');
  await page.getByRole('tab', { name: 'Settings' }).click();
  await page.getByLabel('Theme').selectOption('light');
  await noViolations();
});

test('the in-place confirmation refuses a wrong name', async ({ page }) => {
  const noViolations = await openRestorable(page);
  const wizard = await openWizard(page);
  await expect(wizard.getByTestId('plan')).toContainText('Restorable', { timeout: 15_000 });
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByRole('radio', { name: 'In place, into the source itself' }).check();
  await wizard.getByRole('button', { name: 'Next' }).click();
  await expect(wizard.getByTestId('namespace-tree')).toBeVisible();
  await wizard.getByRole('button', { name: 'Next' }).click();

  const start = wizard.getByRole('button', { name: 'Start the in-place restore' });
  await expect(start).toBeDisabled();
  const confirm = wizard.getByLabel('Type prod-rs to confirm');
  await confirm.fill('prod-r');
  await expect(wizard).toContainText("That is not the source's name (prod-rs).");
  await expect(start).toBeDisabled();
  await confirm.fill('Prod-rs');
  await expect(start).toBeDisabled();
  await expect(wizard.getByTestId('review-statement').locator('[data-destructive]')).not.toHaveCount(0);
  await shot(page, 'restore-wizard-4-review-in-place-light');
  await confirm.fill('prod-rs');
  await expect(start).toBeEnabled();
  await noViolations();
});

test('downloads a point as a dump from the wizard, then imports it from Sources as a new source', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const noViolations = await openRestorable(page);
  const wizard = await openWizard(page);
  await expect(wizard.getByTestId('plan')).toContainText('Restorable', { timeout: 15_000 });
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByRole('radio', { name: 'Download as a dump' }).check();
  await wizard.getByText('Archive file', { exact: true }).click();
  const archive = join(env.dir, 'prod-rs.archive.gz');
  await wizard.getByRole('textbox', { name: 'Archive file to create' }).fill(archive);
  await wizard.getByLabel('gzip (as mongodump --gzip)').check();
  await shot(page, 'restore-wizard-2-kind-dump-light');
  await wizard.getByRole('button', { name: 'Next' }).click();
  await expect(wizard.getByTestId('namespace-tree')).toBeVisible();
  await wizard.getByRole('button', { name: 'Next' }).click();
  await expect(wizard.getByTestId('review-statement')).toContainText(
    'mongorestore --oplogReplay --archive --gzip restores it anywhere.',
  );
  await wizard.getByRole('button', { name: 'Start the export' }).click();
  const done = wizard.getByTestId('export-done');
  await expect(done).toBeVisible({ timeout: 60_000 });
  await expect(done).toContainText(`A mongodump archive (gzip) at ${archive}`);
  await expect(done).toContainText('41 documents');

  // Import it back as a new, imported source.
  await page.getByRole('tab', { name: 'Sources' }).click();
  await page.getByRole('button', { name: 'Import a dump…' }).click();
  const form = page.getByRole('form', { name: 'Import a dump' });
  await form.getByLabel('Source', { exact: false }).first().fill('legacy-rs');
  await form.getByText('Archive file', { exact: true }).click();
  await form.getByRole('textbox', { name: /^Archive file/ }).fill(archive);
  await form.getByRole('button', { name: 'Import' }).click();
  await expect(form.getByTestId('task-import.dump')).toHaveAttribute('data-state', 'succeeded', {
    timeout: 60_000,
  });
  await expect(form.getByRole('status')).toContainText('Created the imported source legacy-rs; snapshot');
  await expect(form.getByRole('status')).toContainText('41 documents');
  await expect(page.getByTestId('source-legacy-rs')).toBeVisible();
  await shot(page, 'sources-import-light');
  await noViolations();
});
