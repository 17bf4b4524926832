/// <reference lib="dom" />
// page.evaluate() callbacks run in the page: they use the DOM.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { watchCsp } from '../support/e2e-workspace.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { tempDir } from '../support/temp-dir.js';
import { reportFailures } from '../support/failure-report.js';

let dir: ReturnType<typeof tempDir>;
let serve: ServeProcess;

test.beforeAll(async () => {
  dir = tempDir('mbm-e2e-');
  serve = await startServe(dir.path);
});
test.afterAll(async () => {
  await serve?.stop();
  dir?.remove();
});
reportFailures(() => serve);

const SECTIONS = [
  ['Dashboard', 'No sources protected yet'],
  ['Sources', 'No sources yet'],
  ['Timeline', 'Nothing captured yet'],
  ['Restores', 'No restores yet'],
  ['Browse', 'Point-in-time browser'],
] as const;

test('opens the printed URL, connects, and shows every section', async ({ page }) => {
  await page.goto(serve.url);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('engine-version')).toHaveText(/\d+\.\d+\.\d+/);
  for (const [tab, emptyTitle] of SECTIONS) {
    await page.getByRole('tab', { name: tab }).click();
    await expect(page.getByRole('tabpanel')).toContainText(emptyTitle);
    await expect(page.getByRole('heading', { level: 2 })).toHaveText(tab);
  }
  await page.getByRole('tab', { name: 'Settings' }).click();
  await expect(page.getByRole('tabpanel')).toContainText(dir.path);
});

test('the token leaves the address bar at once and a reload still connects', async ({ page }) => {
  await page.goto(serve.url);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  expect(page.url()).toBe(`${serve.origin}/mbm-${new URL(serve.origin).port}/`);
  await page.reload();
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  const cookies = await page.context().cookies();
  expect(cookies.map((c) => c.value).join()).not.toContain(serve.token);
});

test('another service on 127.0.0.1 receives no cookie of ours', async ({ page }) => {
  const seen: string[] = [];
  const other = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.cookie ?? ''}`);
    res.end('other service');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  try {
    await page.goto(serve.url);
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
    const at = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    for (const path of ['/', '/api', '/assets/x.js']) await page.goto(`${at}${path}`);
    expect(seen.filter((l) => !l.startsWith('/favicon')).length).toBe(3);
    // Not vacuous: the browser does hold our cookie, for our path only.
    const ours = (await page.context().cookies()).filter((c) => c.name.startsWith('mbm_assets_'));
    expect(ours.map((c) => c.path)).toEqual([`/mbm-${new URL(serve.origin).port}/`]);
    for (const line of seen) expect(line).not.toMatch(/mbm_|token/);
  } finally {
    other.close();
  }
});

test('keyboard navigation moves between sections', async ({ page }) => {
  await page.goto(serve.url);
  await page.getByRole('tab', { name: 'Dashboard' }).focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByRole('tab', { name: 'Sources' })).toBeFocused();
  await expect(page.getByRole('tab', { name: 'Sources' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('End');
  await expect(page.getByRole('tab', { name: 'Settings' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByRole('tab', { name: 'Dashboard' })).toHaveAttribute('aria-selected', 'true');
});

/** The page background as the user sees it: dark theme means a dark body. */
const bodyIsDark = (page: Page) =>
  page.evaluate(() => {
    const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g)!.map(Number);
    return r! + g! + b! < 3 * 96;
  });

test('theme setting switches light/dark and persists through the engine', async ({ page }) => {
  await page.goto(serve.url);
  await page.getByRole('tab', { name: 'Settings' }).click();
  await page.getByLabel('Theme').selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
  expect(await bodyIsDark(page)).toBe(true);
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
  await expect(page.getByLabel('Theme', { exact: true })).toHaveCount(0); // back on the Dashboard
  expect(await bodyIsDark(page)).toBe(true);
  await page.getByRole('tab', { name: 'Settings' }).click();
  await expect(page.getByLabel('Theme')).toHaveValue('dark');
  await page.getByLabel('Theme').selectOption('light');
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'light');
  expect(await bodyIsDark(page)).toBe(false);
  await page.getByLabel('Theme').selectOption('system');
});

test('the page keeps its strict Content-Security-Policy: nothing it loads or styles is refused', async ({
  page,
}) => {
  const watch = await watchCsp(page);
  const response = await page.goto(serve.url);
  const csp = response!.headers()['content-security-policy']!;
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-eval');
  expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  // Visit every section (and open a dialog-free form) so that every component has rendered once.
  for (const tab of ['Dashboard', 'Sources', 'Timeline', 'Restores', 'Alerts', 'Settings']) {
    await page.getByRole('tab', { name: tab }).click();
    await expect(page.getByRole('heading', { level: 2 })).toHaveText(tab);
  }
  await page.getByRole('tab', { name: 'Sources' }).click();
  await page.getByRole('button', { name: 'Add a source' }).click();
  await expect(page.getByRole('form', { name: 'Add a source' })).toBeVisible();
  // Mantine's theme variables are there although no <style> element may be: buttons have their colour.
  const primary = await page.evaluate(() =>
    getComputedStyle(document.documentElement).getPropertyValue('--mantine-primary-color-filled').trim(),
  );
  expect(primary).not.toBe('');
  expect(await watch.violations()).toEqual([]);
});

test('the API refuses a missing token (401) and a foreign Origin (403)', async ({ request }) => {
  const noToken = await request.get(`${serve.origin}/`);
  expect(noToken.status()).toBe(401);
  const foreign = await request.get(serve.url, { headers: { Origin: 'http://attacker.example' } });
  expect(foreign.status()).toBe(403);
  const ok = await request.get(serve.url);
  expect(ok.status()).toBe(200);
});

test('the page reconnects by itself after the server restarts (stable --token-file)', async ({ page }) => {
  const own = tempDir('mbm-e2e-restart-');
  const tokenArgs = ['--token-file', `${own.path}/token`];
  let server = await startServe(`${own.path}/data`, 0, tokenArgs);
  const port = Number(new URL(server.origin).port);
  try {
    await page.goto(server.url);
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
    expect(await server.stop('SIGTERM')).toBe(0); // clean shutdown on SIGTERM
    await expect(page.getByTestId('connection-state')).not.toHaveAttribute('data-state', 'connected');
    server = await startServe(`${own.path}/data`, port, tokenArgs);
    // No reload: the WebSocket client retries and the status bar turns green again.
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected', {
      timeout: 15_000,
    });
    await page.getByRole('tab', { name: 'Settings' }).click();
    await expect(page.getByLabel('Theme')).toBeVisible();
  } finally {
    await server.stop();
    own.remove();
  }
});
