import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandNames, eventNames } from '../../engine/api/contract.js';
import { renderApiDocs } from '../../scripts/api-docs.js';

describe('docs/api.md', () => {
  it('is generated from the current contract (run `npm run docs:api` after changing it)', () => {
    const onDisk = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'api.md'), 'utf8');
    expect(onDisk).toBe(renderApiDocs());
    for (const n of [...commandNames, ...eventNames]) expect(onDisk).toContain(`### \`${n}\``);
  });
});
