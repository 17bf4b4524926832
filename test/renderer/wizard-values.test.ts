import { describe, expect, it } from 'vitest';
import { nearestCandidates } from '../../renderer/src/features/restores/nearest-points';
import { namespacePatterns } from '../../renderer/src/features/restores/wizard-values';

const ns = (db: string, name: string) => ({
  ns: `${db}.${name}`,
  db,
  name,
  type: 'collection' as const,
  documents: 1,
  bytes: 1,
  indexes: 1,
});
const ALL = [
  ns('shop', 'orders'),
  ns('shop', 'carts'),
  ns('crm', 'people'),
  ns('crm', 'leads'),
  ns('logs', 'app'),
];

describe('the namespaces the wizard sends', () => {
  it('sends nothing when everything is chosen, whole databases as db.*, and the shorter of include and exclude', () => {
    expect(namespacePatterns(ALL, [])).toEqual({ include: [], exclude: [] });
    // One database left out: excluding it is shorter.
    expect(namespacePatterns(ALL, ['logs.app'])).toEqual({ include: [], exclude: ['logs.*'] });
    // As long either way: include, which says plainly what is restored.
    expect(namespacePatterns(ALL, ['logs.app', 'shop.carts'])).toEqual({
      include: ['shop.orders', 'crm.*'],
      exclude: [],
    });
    // Only one kept: including is shorter.
    expect(namespacePatterns(ALL, ['shop.carts', 'crm.people', 'crm.leads', 'logs.app'])).toEqual({
      include: ['shop.orders'],
      exclude: [],
    });
    // A name the snapshot does not have (left over from another source) changes nothing.
    expect(namespacePatterns(ALL, ['gone.coll'])).toEqual({ include: [], exclude: [] });
  });
});

describe('nearest restorable candidates', () => {
  const op = (t: number, i = 1) => ({ t, i, text: `${t}:${i}`, wall: new Date(t * 1000).toISOString() });
  const snap = (t: number) => ({
    id: `s${t}`,
    status: 'complete' as const,
    startTs: op(t),
    consistentTs: op(t + 5),
    completedAt: null,
    documents: 0,
    storedBytes: 0,
    lockedUntil: null,
  });
  it('orders the interval edges and snapshot points on each side of the point, nearest first', () => {
    const refusal = {
      restorable: false as const,
      source: 'a',
      point: '2000:1',
      reason: 'IN_GAP' as const,
      message: '',
      nearestInterval: { start: op(1000), end: op(1500) },
    };
    expect(
      nearestCandidates(refusal, [snap(1000), snap(2500), { ...snap(3000), status: 'corrupt' }]),
    ).toEqual({
      before: ['1500:1', '1005:1', '1000:1'],
      after: ['2505:1'],
    });
    // A wall-clock second covers every entry of that second: a candidate inside it counts as before.
    const wall = { ...refusal, point: new Date(1500 * 1000).toISOString() };
    expect(nearestCandidates(wall, []).before[0]).toBe('1500:1');
  });
});
