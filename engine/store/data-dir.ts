/**
 * Opening a data directory: its writer lock first (one writing engine per
 * data dir), then the catalog. A damaged catalog is set aside by the writer
 * (and rebuilt from the known repositories, see reportSetAside); a reader
 * only reports it (CORRUPT), since it may not write anything.
 */
import { ApiError } from '../errors.js';
import {
  openCatalog,
  openCatalogOrSetAside,
  type CatalogDb,
  type SetAside,
} from '../catalog/open-catalog.js';
import type { EventBus } from '../events.js';
import { raiseAlert } from '../schedule/alerts.js';
import type { StoreRegistry } from './store-registry.js';
import { WriterLock } from './writer-lock.js';

export interface OpenedDataDir {
  writerLock: WriterLock | null;
  db: CatalogDb;
  schemaVersion: number;
  setAside: SetAside | null;
}

export function openDataDir(
  dataDir: string,
  catalogPath: string,
  mode: string,
  readOnly: boolean,
): OpenedDataDir {
  const writerLock = readOnly ? null : WriterLock.acquire(dataDir, `The data directory ${dataDir}`, mode);
  try {
    const opened = readOnly
      ? { ...openCatalog(catalogPath), setAside: null }
      : openCatalogOrSetAside(catalogPath, { check: mode !== 'cli' });
    return { writerLock, ...opened };
  } catch (err) {
    writerLock?.release();
    if (['SQLITE_NOTADB', 'SQLITE_CORRUPT'].includes((err as { code?: string }).code ?? ''))
      throw new ApiError(
        'CORRUPT',
        `The catalog ${catalogPath} is damaged; the next writing command (or the app) sets it aside and rebuilds it.`,
      );
    throw err;
  }
}

/** Reports a damaged catalog that was set aside, and has the new one rebuilt from the repositories. */
export function reportSetAside(
  deps: { readonly catalog: CatalogDb; readonly events: EventBus; readonly stores: StoreRegistry },
  setAside: SetAside,
): void {
  const paths = [...new Set([...setAside.repositoryPaths, ...deps.stores.knownPaths()])];
  const message = `The catalog was damaged (${setAside.reason}); it was set aside as ${setAside.path} and a new one is being rebuilt from ${paths.length ? paths.join(', ') : 'no known repository (attach them again: repo attach / catalog rebuild --repository-paths)'}.`;
  process.stderr.write(`${message}\n`);
  raiseAlert(deps.catalog, deps.events, {
    sourceId: null,
    kind: 'CATALOG_REBUILT',
    severity: 'warning',
    message,
    details: { setAside: setAside.path, reason: setAside.reason, repositories: paths },
  });
  deps.stores.scheduleRecovery(paths);
}
