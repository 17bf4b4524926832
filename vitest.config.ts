import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import SlowFirstSequencer from './test/support/sequencer.js';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file per core (vitest's default leaves one core free: a single worker on CI's two). Most
    // files wait on child processes, a stand-in or the disk much of the time, and the tests are
    // written to hold on a machine loaded by other work, so two at a time on two cores is safe.
    maxWorkers: Math.max(2, availableParallelism()),
    // Long files first, also on a fresh clone without vitest's results cache (test/support/sequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'] },
      },
      {
        // Renderer component tests: a DOM (jsdom) for these files only; the engine's tests stay on Node.
        extends: true,
        plugins: [react()],
        test: {
          name: 'renderer',
          include: ['test/renderer/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
          setupFiles: ['test/renderer/setup.ts'],
        },
      },
    ],
  },
});
