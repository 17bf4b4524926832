/** The app's name and version, read once from package.json (the one place they are declared). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

function findPackageJson(): { name: string; productName?: string; version: string } {
  // Works from engine/ (tsx) and from dist/engine/ (compiled) alike.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
      };
    } catch {
      dir = dirname(dir);
    }
  }
  return { name: 'mongo-backup-manager', version: '0.0.0' };
}

const pkg = findPackageJson();
export const APP_NAME = pkg.productName ?? pkg.name;
export const APP_VERSION = pkg.version;
