import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { tempDir } from '../support/temp-dir.js';
import { reportFailures } from '../support/failure-report.js';

const root = join(import.meta.dirname, '..', '..');
let dir: ReturnType<typeof tempDir>;
let serve: ServeProcess;

test.beforeAll(async () => {
  dir = tempDir('mbm-e2e-repo-');
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'engine', 'cli.ts'),
      'repo',
      'init',
      '--path',
      join(dir.path, 'repo'),
      '--encrypt',
      '--passphrase-env',
      'P',
      '--data-dir',
      join(dir.path, 'data'),
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, P: 'a very good passphrase' } },
  );
  expect(r.status, r.stderr).toBe(0);
  serve = await startServe(join(dir.path, 'data')); // started without the passphrase
});
test.afterAll(async () => {
  await serve?.stop();
  dir?.remove();
});
reportFailures(() => serve);

test('an encrypted repository is shown locked and unlocks with its passphrase only', async ({ page }) => {
  await page.goto(serve.url);
  await page.getByRole('tab', { name: 'Settings' }).click();
  const repo = page.getByTestId('repository');
  await expect(repo).toContainText(join(dir.path, 'repo'));
  await expect(repo).toContainText('encrypted, locked');
  await repo.getByLabel('Passphrase').fill('wrong passphrase');
  await repo.getByRole('button', { name: 'Unlock' }).click();
  await expect(repo.getByRole('alert')).toContainText('passphrase does not open');
  await repo.getByLabel('Passphrase').fill('a very good passphrase');
  await repo.getByRole('button', { name: 'Unlock' }).click();
  await expect(repo).toContainText('encrypted, unlocked');
});
