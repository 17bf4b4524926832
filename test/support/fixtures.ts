/** Paths into ../shared/fixtures (real MongoDB data). Tests skip with a clear message where it is absent. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures');
export const HAVE_FIXTURES = existsSync(join(FIXTURES, 'mongo-tools'));
export const SKIP_FIXTURES_MESSAGE =
  'skipped: ../shared/fixtures is absent (a user clone); these tests read real MongoDB data from it';

export const fixture = (...parts: string[]) => join(FIXTURES, 'mongo-tools', ...parts);

if (!HAVE_FIXTURES) console.log(SKIP_FIXTURES_MESSAGE);
