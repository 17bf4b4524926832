import { expect, test, type Page } from '@playwright/test';
import { MongoClient } from 'mongodb';
import { addSourceInUi, startWorkspace, watchCsp, type E2eWorkspace } from '../support/e2e-workspace.js';
import { reportFailures } from '../support/failure-report.js';

/**
 * The point-in-time browser through the headless server against the
 * stand-in: documents are written and captured, a deleteMany removes some,
 * and the browser opened at the second before the delete finds them again
 * and shows one document's history (insert, update, delete). Pictures go
 * to test-results/screens/.
 */
let env: E2eWorkspace;
test.beforeAll(async () => {
  env = await startWorkspace('mbm-e2e-browse-');
});
test.afterAll(async () => env?.stop());
reportFailures(() => env?.serve);

const description = (page: Page) => page.getByTestId('timeline-description');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The live edge as the timeline's description says it (local time), as epoch seconds. */
async function liveEdgeSeconds(page: Page): Promise<number> {
  const text = (await description(page).textContent()) ?? '';
  const m = /live edge (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})/.exec(text);
  return m ? Math.floor(new Date(`${m[1]}T${m[2]}`).getTime() / 1000) : 0;
}

test('open the browser a second before a deleteMany, find the deleted documents and one history', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const csp = await watchCsp(page);
  await page.setViewportSize({ width: 1360, height: 1000 });
  await page.goto(env.serve.url);
  await addSourceInUi(page, 'prod-rs', env.standins[0]!.uri);
  await page.getByTestId('job-prod-rs').getByRole('button', { name: 'Take a snapshot now' }).click();
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await expect(description(page)).toContainText(/\d+ snapshots? \(/, { timeout: 45_000 });

  // The workload, after the snapshot: six orders, one of them updated, then the A orders deleted.
  const client = await MongoClient.connect(env.standins[0]!.uri);
  const orders = client.db('shop').collection<{ _id: number; status: string; qty: number }>('orders');
  await orders.insertMany(
    [1, 2, 3, 4, 5, 6].map((n) => ({ _id: n, status: n % 2 ? 'A' : 'B', qty: n * 10 })),
  );
  await orders.updateOne({ _id: 3 }, { $set: { qty: 31, note: 'rush' } });
  // A whole second between the writes and the delete: the browser opens inside it.
  await sleep(1000 - (Date.now() % 1000) + 1100);
  const before = Math.floor(Date.now() / 1000);
  await sleep(1000 - (Date.now() % 1000) + 100);
  const deleted = await orders.deleteMany({ status: 'A' });
  expect(deleted.deletedCount).toBe(3);
  await client.close();
  // Capture has the delete once the live edge is past it.
  await expect
    .poll(() => liveEdgeSeconds(page), { timeout: 60_000, intervals: [1000] })
    .toBeGreaterThan(before + 2);

  await page.getByRole('tab', { name: 'Browse' }).click();
  // The second before the delete, picked in the date-time picker (local time): its day, then hours, minutes, seconds.
  const at = new Date(before * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  await page.getByLabel('Point (local time)').click();
  const day = `${at.getDate()} ${at.toLocaleString('en-US', { month: 'long' })} ${at.getFullYear()}`;
  await page.getByRole('button', { name: day, exact: true }).click();
  for (const [label, value] of [
    ['Hours', at.getHours()],
    ['Minutes', at.getMinutes()],
    ['Seconds', at.getSeconds()],
  ] as const) {
    await page.getByLabel(label, { exact: true }).fill(two(value));
  }
  await page.getByRole('button', { name: 'Set the point' }).click();
  const shown = `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  await expect(page.getByLabel('Point (local time)')).toHaveText(shown);
  await page.getByRole('button', { name: 'Open' }).click();
  const tree = page.getByRole('navigation', { name: 'Databases and collections' });
  await expect(tree.getByTestId('count-shop.orders')).toHaveText('6', { timeout: 60_000 });
  await expect(page.getByTestId('task-view.build')).toHaveAttribute('data-state', 'succeeded', {
    timeout: 30_000,
  });
  await tree.getByLabel('shop.orders').click();
  await page.getByLabel('Filter').fill('{"status": "A"}');
  await page.getByLabel('Sort').fill('{"_id": 1}');
  await page.getByRole('button', { name: 'Find' }).click();
  const results = page.getByRole('table', { name: 'Results' });
  await expect(page.getByTestId('result-summary')).toContainText('3 documents', { timeout: 30_000 });
  const rows = results.getByRole('row');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(1)).toContainText('1A10');
  await expect(rows.nth(2)).toContainText('3A31rush');
  await expect(rows.nth(3)).toContainText('5A50');
  await page.screenshot({ path: env.screen('browse-before-delete'), fullPage: true });

  await results.getByRole('button', { name: '3', exact: true }).click();
  const history = page.getByRole('region', { name: 'Document history' });
  const versions = history.getByTestId('history-version');
  await expect(versions).toHaveCount(3, { timeout: 30_000 });
  await expect(versions.nth(0)).toContainText('insert');
  await expect(versions.nth(1)).toContainText('update');
  await expect(versions.nth(1)).toContainText('qty');
  await expect(versions.nth(2)).toContainText('delete');
  await history.screenshot({ path: env.screen('browse-history') });

  await page.locator('label', { hasText: /^Extended JSON$/ }).click();
  await expect(page.getByTestId('result-json').nth(1)).toContainText('"note": "rush"');
  await page.screenshot({ path: env.screen('browse-json'), fullPage: true });
  expect(await csp.violations()).toEqual([]);
});
