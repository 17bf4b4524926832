import { _electron as electron, expect, test } from '@playwright/test';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tempDir } from '../support/temp-dir.js';

/** The Electron binary path, or null when it was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD). */
function electronBinary(): string | null {
  try {
    return createRequire(import.meta.url)('electron') as string;
  } catch {
    return null;
  }
}

const binary = electronBinary();
if (!binary) console.log('skipped: no Electron binary (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1)');

test.describe('desktop app', () => {
  test.skip(!binary, 'skipped: no Electron binary');

  test('starts the engine, shows every section over IPC, and keeps isolation', async () => {
    const dir = tempDir('mbm-electron-');
    const app = await electron.launch({
      executablePath: binary!,
      args: [join(import.meta.dirname, '..', '..'), '--no-sandbox'],
      env: { ...process.env, MBM_DATA_DIR: dir.path },
    });
    try {
      const page = await app.firstWindow();
      await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
      // Served from the app's own scheme, not file://, and a file:// fetch from the page is cancelled.
      expect(page.url()).toBe('mbm://app/index.html');
      expect(
        await page.evaluate(() =>
          fetch('file:///etc/hostname').then(
            () => 'read',
            () => 'refused',
          ),
        ),
      ).toBe('refused');
      for (const tab of ['Dashboard', 'Sources', 'Timeline', 'Restores', 'Settings']) {
        await page.getByRole('tab', { name: tab }).click();
        await expect(page.getByRole('heading', { level: 2 })).toHaveText(tab);
      }
      // The page has the bridge but no Node.
      expect(await page.evaluate(() => typeof (globalThis as unknown as { require?: unknown }).require)).toBe(
        'undefined',
      );
      expect(await page.evaluate(() => typeof (globalThis as unknown as { backup?: unknown }).backup)).toBe(
        'object',
      );
      const info = await page.evaluate(() =>
        (
          globalThis as unknown as { backup: { invoke(n: string, i: unknown): Promise<unknown> } }
        ).backup.invoke('app.info', {}),
      );
      expect(info).toMatchObject({ ok: true, result: { mode: 'desktop', dataDir: dir.path } });
      const bad = await page.evaluate(() =>
        (
          globalThis as unknown as { backup: { invoke(n: string, i: unknown): Promise<unknown> } }
        ).backup.invoke('settings.set', { theme: 1 }),
      );
      expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    } finally {
      await app.evaluate(({ app: a }) => a.exit(0)).catch(() => {});
      await app.close().catch(() => {});
      dir.remove();
    }
  });
});
