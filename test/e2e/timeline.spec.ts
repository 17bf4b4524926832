import { expect, test, type Locator, type Page } from '@playwright/test';
import { MongoClient } from 'mongodb';
import { addSourceInUi, startWorkspace, watchCsp, type E2eWorkspace } from '../support/e2e-workspace.js';
import { reportFailures } from '../support/failure-report.js';

/**
 * The Timeline section through the headless server against the stand-in:
 * a source added from the UI gets its first snapshot and a live edge that
 * moves while documents are written; a second is zoomed to, clicked, and
 * restored from the point panel (the wizard opens with it filled in); a
 * dropDatabase gets a flag whose "restore to just before this" fills the
 * wizard with the exact entry before it; zoom and pan work by keyboard alone; and
 * pictures at year, day and second zoom in both themes go to
 * test-results/screens/. What the canvas shows is read from its
 * description (aria-describedby), which is built from the same layout as
 * the drawing.
 */
// One scenario: the first test adds prod-rs from the UI and the others use it. After a failure
// Playwright starts a new worker (and so a new, empty workspace): the rest are skipped, not failed
// for a source they never had.
test.describe.configure({ mode: 'serial' });
let env: E2eWorkspace;
test.beforeAll(async () => {
  env = await startWorkspace('mbm-e2e-timeline-');
});
test.afterAll(async () => env?.stop());
reportFailures(() => env?.serve);

const description = (page: Page) => page.getByTestId('timeline-description');
const canvas = (page: Page) => page.getByRole('application', { name: /Timeline of/ });

/** The live edge as the description says it (local time), once there is one. */
async function liveEdge(page: Page): Promise<string> {
  await expect(description(page)).toContainText(/live edge \d{4}-/, { timeout: 30_000 });
  const text = (await description(page).textContent()) ?? '';
  return /live edge (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})/.exec(text)![1]!;
}

async function shoot(page: Page, name: string, what: Locator) {
  await what.screenshot({ path: env.screen(name) });
}

test('a new source: first snapshot, live edge moving, a second picked and restored from the point panel', async ({
  page,
}) => {
  test.setTimeout(120_000);
  // The drawing and its controls stay within the CSP (no inline styles or scripts).
  const csp = await watchCsp(page);
  await page.setViewportSize({ width: 1360, height: 900 });
  await page.goto(env.serve.url);
  await addSourceInUi(page, 'prod-rs', env.standins[0]!.uri);

  await page.getByRole('tab', { name: 'Timeline' }).click();
  await expect(canvas(page)).toBeVisible();
  await expect(description(page)).toContainText('prod-rs: capture running', { timeout: 30_000 });
  // The first snapshot (taken now rather than at the scheduler's next minute) appears as a marker.
  await page.getByRole('tab', { name: 'Sources' }).click();
  await page.getByTestId('job-prod-rs').getByRole('button', { name: 'Take a snapshot now' }).click();
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await expect(description(page)).toContainText(/\d+ snapshots? \(/, { timeout: 45_000 });

  // Writes move the live edge: capture cuts a segment and the timeline reads it again.
  const client = await MongoClient.connect(env.standins[0]!.uri);
  const first = await liveEdge(page);
  await client
    .db('shop')
    .collection('orders')
    .insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
  await expect.poll(async () => liveEdge(page), { timeout: 45_000, intervals: [1000] }).not.toBe(first);
  await client.close();

  // Zoom to a second: type the live edge's second, then the Seconds zoom; the second is picked.
  const edge = await liveEdge(page);
  await page.getByLabel('Go to').fill(edge);
  await page.getByLabel('Go to').press('Enter');
  await page.getByRole('button', { name: 'Zoom to seconds' }).click();
  await expect(description(page)).toContainText(/\(10 s\)/);
  const panel = page.getByTestId('point-panel');
  await expect(panel).toContainText('Restorable', { timeout: 15_000 });

  // Click that second on the canvas (the middle of the view, in the source's lane).
  const box = (await canvas(page).boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 28 + 40);
  await expect(page.getByTestId('timeline-cursor')).toContainText(' UTC');
  await page.mouse.click(box.x + box.width / 2, box.y + 28 + 40);
  await expect(panel).toContainText('Restorable');
  // The second clicked, as the panel names it (local time, the same format the wizard's picker shows).
  const clicked = (await panel.getByRole('heading').locator('time').textContent())!;
  await expect(panel).toContainText('Snapshot');
  await expect(panel).toContainText(/at most \d+ entries/);
  await shoot(page, 'timeline-point-light', panel);

  await panel.getByRole('button', { name: 'Restore here' }).click();
  await expect(page.getByRole('tab', { name: 'Restores' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Restores');
  // The wizard opens with that very second filled in.
  const wizard = page.getByRole('region', { name: 'Restore wizard' });
  await expect(wizard.getByLabel('Source', { exact: true })).toHaveValue('prod-rs');
  await expect(wizard.getByRole('radio', { name: 'Date and time' })).toBeChecked();
  await expect(wizard.getByLabel("Date and time (this computer's time zone)")).toHaveText(clicked);
  await expect(wizard.getByTestId('plan')).toContainText('Restorable', { timeout: 15_000 });
  expect(await csp.violations()).toEqual([]);
});

test('a dropDatabase is flagged on the timeline; its flag restores to the entry just before it', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1360, height: 900 });
  await page.goto(env.serve.url);
  const client = await MongoClient.connect(env.standins[0]!.uri);
  await client
    .db('scratch')
    .collection('items')
    .insertMany([{ n: 1 }, { n: 2 }]);
  await client.db('scratch').dropDatabase();
  // The point the flag must give, from the source's own oplog: the entry just before the first one
  // the dropDatabase logged (mongod logs a drop per collection before {dropDatabase: 1}).
  const oplog = client.db('local').collection('oplog.rs');
  const first = await oplog.find({ ns: 'scratch.$cmd', 'o.drop': 'items' }).sort({ ts: 1 }).limit(1).next();
  const prev = await oplog
    .find({ ts: { $lt: first!.ts } })
    .sort({ ts: -1 })
    .limit(1)
    .next();
  await client.close();
  const expected = `${prev!.ts.t}:${prev!.ts.i}`;

  await page.getByRole('tab', { name: 'Timeline' }).click();
  await page.getByRole('switch', { name: 'Follow live edge' }).check();
  await page.getByRole('button', { name: 'Zoom to day' }).click();
  // Flagged once capture has cut the segment and the incident finder has read it.
  const flagged = /(Database scratch dropped \(1 collection[^)]*\)) at (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})/;
  await expect(description(page)).toContainText(flagged, { timeout: 60_000 });
  const m = flagged.exec((await description(page).textContent())!)!;
  const [summary, flagAt] = [m[1]!, m[2]!];
  // Bring the flag to the middle of a ten-second view and click it.
  await page.getByLabel('Go to').fill(flagAt);
  await page.getByLabel('Go to').press('Enter');
  await page.getByRole('button', { name: 'Zoom to seconds' }).click();
  await expect(description(page)).toContainText(/\(10 s\)/);
  await expect(description(page)).toContainText(
    `Database scratch dropped (1 collection, 2 documents) at ${flagAt}`,
  );
  const box = (await canvas(page).boundingBox())!;
  await page.mouse.click(box.x + box.width / 2, box.y + 28 + 40);
  const panel = page.getByTestId('point-panel');
  await expect(panel.getByTestId('point-before')).toHaveText(
    `Just before: ${summary} (oplog timestamp ${expected})`,
    { timeout: 15_000 },
  );
  await expect(panel).toContainText('Restorable', { timeout: 15_000 });
  await shoot(page, 'timeline-incident-light', panel);

  await panel.getByRole('button', { name: 'Restore to just before this' }).click();
  const wizard = page.getByRole('region', { name: 'Restore wizard' });
  await expect(wizard.getByLabel('Source', { exact: true })).toHaveValue('prod-rs');
  await expect(wizard.getByRole('radio', { name: 'Oplog timestamp' })).toBeChecked();
  await expect(wizard.getByLabel('Oplog timestamp (t:i)')).toHaveValue(expected);
  await expect(wizard.getByTestId('plan')).toContainText('Restorable', { timeout: 15_000 });
});

test('zoom and pan with the keyboard only', async ({ page }) => {
  await page.goto(env.serve.url);
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await expect(description(page)).toContainText('prod-rs', { timeout: 30_000 });
  await canvas(page).focus();
  await page.keyboard.press('End'); // follow the live edge
  const span = async () => /local time \(([^)]+)\)/.exec((await description(page).textContent()) ?? '')![1]!;
  const before = await span();
  await page.keyboard.press('-');
  await page.keyboard.press('-');
  await expect.poll(span).not.toBe(before);
  // In to seconds across the view, however wide the first view was (a CI run opened it at 7 days,
  // where twelve presses leave minutes): each press halves the span.
  const seconds = /\(\d+ s\)/;
  for (let k = 0; k < 40 && !seconds.test((await description(page).textContent()) ?? ''); k++)
    await page.keyboard.press('+');
  await expect(description(page)).toContainText(seconds);
  const range = async () => /Showing ([^(]+)\(/.exec((await description(page).textContent()) ?? '')![1]!;
  const at = await range();
  await page.keyboard.press('Shift+ArrowLeft');
  await expect.poll(range).not.toBe(at);
  // Enter picks the second under the keyboard cursor (the middle of the view).
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('point-panel')).toContainText(/prod-rs at \d{4}-/);
  await expect(page.getByTestId('timeline-cursor')).toContainText(' UTC');
});

test('pictures at year, day and second zoom, light and dark', async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 1360, height: 900 });
  await page.goto(env.serve.url);
  for (const theme of ['light', 'dark'] as const) {
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Theme').selectOption(theme);
    await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', theme);
    await page.getByRole('tab', { name: 'Timeline' }).click();
    await expect(description(page)).toContainText('prod-rs: capture running', { timeout: 30_000 });
    await page.getByRole('switch', { name: 'Follow live edge' }).check();
    for (const [zoom, button, span] of [
      ['year', 'Zoom to year', /\(366 days\)/],
      ['day', 'Zoom to day', /\(24 h\)/],
      ['second', 'Zoom to seconds', /\(10 s\)/],
    ] as const) {
      await page.getByRole('button', { name: button }).click();
      await expect(description(page)).toContainText(span);
      await expect(page.getByRole('status').filter({ hasText: 'Loading…' })).toHaveCount(0);
      await page.screenshot({ path: env.screen(`timeline-${zoom}-${theme}`), fullPage: true });
    }
  }
});
