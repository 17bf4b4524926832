/**
 * The order vitest starts test files in, so that two workers finish together. Vitest runs the
 * longest files first when its results cache (node_modules/.vite/vitest) knows every file's
 * duration. A fresh clone (CI) has no cache and vitest falls back to the largest files first,
 * which would leave a long integration file (a minute of child processes) for the end while the
 * other worker idles. Without the cache, integration files (the long ones: real processes, a
 * stand-in, megabytes of data) therefore go first, in vitest's order, then the unit and renderer
 * files.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const rank = (spec: TestSpecification): number => (spec.moduleId.includes('/test/integration/') ? 0 : 1);

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const known = sorted.every((f) =>
      this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(root, f.moduleId)}`),
    );
    if (known) return sorted;
    // Stable: projects stay in vitest's order, and files of one rank too.
    const project = new Map<string, number>();
    for (const f of sorted) if (!project.has(f.project.name)) project.set(f.project.name, project.size);
    return sorted
      .map((f, i) => ({ f, i }))
      .sort(
        (a, b) =>
          project.get(a.f.project.name)! - project.get(b.f.project.name)! ||
          rank(a.f) - rank(b.f) ||
          a.i - b.i,
      )
      .map(({ f }) => f);
  }
}
