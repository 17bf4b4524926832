import { expect, test, type Locator, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { startStandin, type Standin } from '../support/standin/server.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The Timeline section through the headless server against the stand-in:
 * a source added from the UI gets its first snapshot and a live edge that
 * moves while documents are written; a second is zoomed to, clicked, and
 * restored from the point panel; zoom and pan work by keyboard alone; and
 * pictures at year, day and second zoom in both themes go to
 * test-results/screens/. What the canvas shows is read from its
 * description (aria-describedby), which is built from the same layout as
 * the drawing.
 */
const root = join(import.meta.dirname, '..', '..');
const screens = join(root, 'test-results', 'screens');
let dir: ReturnType<typeof tempDir>;
let serve: ServeProcess;
let standin: Standin;

const cli = (...args: string[]) =>
  new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'engine', 'cli.ts'), ...args, '--data-dir', join(dir.path, 'data')],
      { cwd: root, stdio: 'ignore' },
    );
    child.on('exit', resolve);
  });

test.beforeAll(async () => {
  mkdirSync(screens, { recursive: true });
  dir = tempDir('mbm-e2e-timeline-');
  standin = await startStandin({ noopIntervalMs: 1000 });
  expect(await cli('repo', 'init', '--path', join(dir.path, 'repo'))).toBe(0);
  serve = await startServe(join(dir.path, 'data'));
});
test.afterAll(async () => {
  await serve?.stop();
  await standin?.stop();
  dir?.remove();
});

const description = (page: Page) => page.getByTestId('timeline-description');
const canvas = (page: Page) => page.getByRole('application', { name: /Timeline of/ });

/** The live edge as the description says it (local time), once there is one. */
async function liveEdge(page: Page): Promise<string> {
  await expect(description(page)).toContainText(/live edge \d{4}-/, { timeout: 30_000 });
  const text = (await description(page).textContent()) ?? '';
  return /live edge (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})/.exec(text)![1]!;
}

async function shoot(page: Page, name: string, what: Locator) {
  await what.screenshot({ path: join(screens, `${name}.png`) });
}

test('a new source: first snapshot, live edge moving, a second picked and restored from the point panel', async ({
  page,
}) => {
  test.setTimeout(120_000);
  // The drawing and its controls stay within the CSP (no inline styles or scripts).
  await page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`),
    );
  });
  await page.setViewportSize({ width: 1360, height: 900 });
  await page.goto(serve.url);
  await page.getByRole('tab', { name: 'Sources' }).click();
  await page.getByRole('button', { name: 'Add a source' }).click();
  const form = page.getByRole('form', { name: 'Add a source' });
  await form.getByLabel('Name', { exact: true }).fill('prod-rs');
  await form.getByLabel('Connection string').fill(standin.uri);
  await form.getByRole('button', { name: 'Test and add' }).click();
  await expect(page.getByRole('status').first()).toHaveText('Added prod-rs; its backup job is active.');

  await page.getByRole('tab', { name: 'Timeline' }).click();
  await expect(canvas(page)).toBeVisible();
  await expect(description(page)).toContainText('prod-rs: capture running', { timeout: 30_000 });
  // The first snapshot (taken now rather than at the scheduler's next minute) appears as a marker.
  await page.getByRole('tab', { name: 'Sources' }).click();
  await page.getByTestId('job-prod-rs').getByRole('button', { name: 'Take a snapshot now' }).click();
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await expect(description(page)).toContainText(/\d+ snapshots? \(/, { timeout: 45_000 });

  // Writes move the live edge: capture cuts a segment and the timeline reads it again.
  const client = await MongoClient.connect(standin.uri);
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
  await expect(panel).toContainText('Snapshot');
  await expect(panel).toContainText(/at most \d+ entries/);
  await shoot(page, 'timeline-point-light', panel);

  await panel.getByRole('button', { name: 'Restore here' }).click();
  await expect(page.getByRole('tab', { name: 'Restores' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Restores');
  expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual(
    [],
  );
});

test('zoom and pan with the keyboard only', async ({ page }) => {
  await page.goto(serve.url);
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await expect(description(page)).toContainText('prod-rs', { timeout: 30_000 });
  await canvas(page).focus();
  await page.keyboard.press('End'); // follow the live edge
  const span = async () => /local time \(([^)]+)\)/.exec((await description(page).textContent()) ?? '')![1]!;
  const before = await span();
  await page.keyboard.press('-');
  await page.keyboard.press('-');
  await expect.poll(span).not.toBe(before);
  for (let k = 0; k < 12; k++) await page.keyboard.press('+');
  await expect(description(page)).toContainText(/\(\d+ s\)/); // seconds across the view
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
  await page.goto(serve.url);
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
      await page.screenshot({ path: join(screens, `timeline-${zoom}-${theme}.png`), fullPage: true });
    }
  }
});
