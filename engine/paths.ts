/** Where the app keeps its data when no --data-dir is given, following each OS's convention. */
import { homedir, platform } from 'node:os';
import { join } from 'node:path';

export const APP_DIR_NAME = 'mongo-backup-manager';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, os = platform()): string {
  if (env.MBM_DATA_DIR) return env.MBM_DATA_DIR;
  const home = homedir();
  switch (os) {
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
    case 'darwin':
      return join(home, 'Library', 'Application Support', APP_DIR_NAME);
    default:
      return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), APP_DIR_NAME);
  }
}

export const CATALOG_FILE = 'catalog.sqlite';

/** Paths of the repositories this data dir writes, kept outside the catalog (see StoreRegistry). */
export const KNOWN_REPOSITORIES_FILE = 'repositories.json';
