import { ApiError } from '../../errors.js';
import { Repository } from '../../repo/repository.js';
import { rebuildFromRepository } from '../../store/reconcile.js';
import { verifyRepository } from '../../verify/repository-verify.js';
import { listRepositories } from '../../catalog/sources.js';
import { repositoryInfo } from '../views.js';
import type { PartialHandlers } from './types.js';

export const repositoryHandlers: PartialHandlers<
  'repo.init' | 'repo.attach' | 'repo.unlock' | 'repo.list' | 'repo.info' | 'repo.verify' | 'catalog.rebuild'
> = {
  'repo.init': async (engine, input) => {
    if (input.encrypt && !input.passphrase) {
      throw new ApiError(
        'INVALID_INPUT',
        'An encrypted repository needs a passphrase (CLI: --passphrase-env VAR).',
      );
    }
    if (!input.encrypt && input.passphrase) {
      throw new ApiError('INVALID_INPUT', 'A passphrase was given without --encrypt; say which you mean.');
    }
    const repo = await Repository.init(input.path, {
      compression: { algorithm: input.compression ?? 'zstd', level: input.level ?? 3 },
      ...(input.encrypt ? { passphrase: input.passphrase } : {}),
      ...(engine.kdfCost ? { kdfCost: engine.kdfCost } : {}),
    });
    if (input.passphrase) engine.rememberPassphrase(repo.id, input.passphrase);
    await engine.stores.attach(repo);
    return repositoryInfo(engine.catalog, repo);
  },
  'repo.attach': async (engine, { path, passphrase }) => {
    const repo = Repository.open(path, passphrase);
    if (passphrase) engine.rememberPassphrase(repo.id, passphrase);
    const store = await engine.stores.attach(repo);
    return repositoryInfo(engine.catalog, store.repo);
  },
  'repo.unlock': async (engine, { repository, passphrase }) => {
    const store = await engine.stores.unlock(repository, passphrase);
    return repositoryInfo(engine.catalog, store.repo);
  },
  'repo.list': async (engine) => {
    const out = [];
    for (const r of listRepositories(engine.catalog))
      out.push(repositoryInfo(engine.catalog, (await engine.stores.get(r.id)).repo));
    return out;
  },
  'repo.info': async (engine, { repository }) =>
    repositoryInfo(engine.catalog, (await engine.stores.get(repository)).repo),
  'repo.verify': async (engine, { repository }) => {
    const store = await engine.stores.get(repository);
    store.repo.key(); // LOCKED now, not later inside the job
    const job = engine.tasks.start('repo.verify', (ctx) => verifyRepository(engine.catalog, store.repo, ctx));
    return { taskId: job.taskId };
  },
  'catalog.rebuild': async (engine, { repositoryPaths }) => {
    const paths = repositoryPaths ?? listRepositories(engine.catalog).map((r) => r.path);
    if (paths.length === 0)
      throw new ApiError('NOT_FOUND', 'No repository to rebuild from: give --repository-paths.');
    const repos = paths.map((p) => Repository.open(p));
    // Lock every repository first (CONFLICT now, not inside the task): rebuilding removes
    // temporaries, which only the repository's one writer may do.
    const cleanable = repos.map((r) => engine.stores.hold(r));
    const job = engine.tasks.start('catalog.rebuild', async (ctx) => {
      ctx.progress({ done: 0, total: repos.length, unit: 'repositories', message: 'Rebuilding the catalog' });
      for (const r of repos) engine.stores.forget(r.id);
      const reports = await rebuildFromRepository(engine.catalog, repos, {
        removeTemporaries: cleanable.every(Boolean),
      });
      for (const r of repos) await engine.stores.attach(r);
      return reports;
    });
    return { taskId: job.taskId };
  },
};
