/**
 * The packaged app's Electron fuses, read and schema-checked by
 * electron-builder's own configuration loader (what `npm run dist` uses), so
 * a typo or a dropped line fails here rather than shipping an open binary.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

interface BuilderConfig {
  electronFuses?: Record<string, boolean> | null;
  asar?: boolean;
}
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(dir: string, file: string, extra: null): Promise<BuilderConfig>;
  validateConfiguration(c: BuilderConfig, log: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

describe('packaged Electron fuses', () => {
  it('turn off run-as-node, NODE_OPTIONS, --inspect and file:// privileges; turn on cookie encryption and ASAR-only with integrity', async () => {
    const config = await getConfig(root, 'electron-builder.yml', null);
    await validateConfiguration(config, new DebugLogger(false));
    expect(config.asar).not.toBe(false); // the fuses below need the app in an asar
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });
});
