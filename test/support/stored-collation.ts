/**
 * A collation as mongod stores it in a collection's or view's options (every field, version
 * included), as jstests/core/collation.js shows it: the root defaults, with `o` over them.
 */
import type { CollationSpec } from '../../engine/views/collation.js';

export const storedCollation = (locale: string, o: Partial<CollationSpec> = {}): CollationSpec => ({
  locale,
  caseLevel: false,
  caseFirst: 'off',
  strength: 3,
  numericOrdering: false,
  alternate: 'non-ignorable',
  maxVariable: 'punct',
  normalization: false,
  backwards: false,
  version: '57.1',
  ...o,
});
