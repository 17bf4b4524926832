import { ApiError } from '../../errors.js';
import { Repository } from '../../repo/repository.js';
import { verifyRepository } from '../../verify/repository-verify.js';
import { listRepositories } from '../../catalog/repositories.js';
import { repositoryInfo } from '../views.js';
import { repositoryPassphraseKey } from '../../secrets.js';
import type { Services } from '../../services.js';
import type { PartialHandlers } from './types.js';

export const repoHandlers: PartialHandlers<
  'repo.init' | 'repo.attach' | 'repo.unlock' | 'repo.list' | 'repo.info' | 'repo.verify',
  Pick<Services, 'catalog' | 'stores' | 'secrets' | 'tasks' | 'kdfCost'>
> = {
  'repo.init': async (svc, input) => {
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
      ...(svc.kdfCost ? { kdfCost: svc.kdfCost } : {}),
    });
    if (input.passphrase) svc.secrets.set(repositoryPassphraseKey(repo.id), input.passphrase);
    await svc.stores.attach(repo);
    return repositoryInfo(svc.catalog, repo);
  },
  'repo.attach': async (svc, { path, passphrase }) => {
    const repo = Repository.open(path, passphrase);
    if (passphrase) svc.secrets.set(repositoryPassphraseKey(repo.id), passphrase);
    const store = await svc.stores.attach(repo);
    return repositoryInfo(svc.catalog, store.repo);
  },
  'repo.unlock': async (svc, { repository, passphrase }) => {
    const store = await svc.stores.unlock(repository, passphrase);
    return repositoryInfo(svc.catalog, store.repo);
  },
  'repo.list': async (svc) => {
    const out = [];
    for (const r of listRepositories(svc.catalog))
      out.push(repositoryInfo(svc.catalog, (await svc.stores.get(r.id)).repo));
    return out;
  },
  'repo.info': async (svc, { repository }) =>
    repositoryInfo(svc.catalog, (await svc.stores.get(repository)).repo),
  'repo.verify': async (svc, { repository }) => {
    const store = await svc.stores.get(repository);
    store.repo.key(); // LOCKED now, not later inside the task
    const task = svc.tasks.start('repo.verify', (ctx) => verifyRepository(svc.catalog, store.repo, ctx));
    return { taskId: task.taskId };
  },
};
