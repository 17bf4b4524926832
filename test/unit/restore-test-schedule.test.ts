/**
 * The restore test's schedule (a pure function of the clock), the scratch names (never colliding,
 * never over mongod's 63-byte database name limit) and the policy rule that keeps secrets out of
 * the target string.
 */
import { describe, expect, it } from 'vitest';
import type { RestoreTestSettings } from '../../engine/api/schemas.js';
import { NamespaceFilter } from '../../engine/oplog/namespace-selection.js';
import { DEFAULT_POLICY, validatePolicy } from '../../engine/schedule/policy.js';
import { nextRestoreTest, restoreTestDue } from '../../engine/schedule/restore-test-schedule.js';
import { scratchRenames } from '../../engine/verify/restore-test.js';

const DAY = 86_400_000;
const settings = (everyDays: number, uri = 'mongodb://tester@scratch:27017/'): RestoreTestSettings => ({
  everyDays,
  point: 'latest-snapshot',
  target: { kind: 'uri', uri, passwordEnv: null },
  sample: 100,
});

describe('restore test schedule', () => {
  const last = new Date('2026-03-01T03:00:00Z');

  it('the first test is due at once', () => {
    expect(restoreTestDue(settings(7), null, last)).toEqual({ due: true, scheduledAt: null, missed: false });
  });

  it('is due N days after the last start, not a minute before', () => {
    expect(restoreTestDue(settings(3), last, new Date(last.getTime() + 3 * DAY - 60_000)).due).toBe(false);
    expect(restoreTestDue(settings(3), last, new Date(last.getTime() + 3 * DAY))).toEqual({
      due: true,
      scheduledAt: new Date(last.getTime() + 3 * DAY),
      missed: false,
    });
  });

  it('after the app was closed for many periods it is due once, marked missed', () => {
    const now = new Date(last.getTime() + 30 * DAY);
    expect(restoreTestDue(settings(3), last, now)).toEqual({
      due: true,
      scheduledAt: new Date(last.getTime() + 3 * DAY),
      missed: true,
    });
    // Once it has started (the last start is now), it is not due again until N days later.
    expect(restoreTestDue(settings(3), now, new Date(now.getTime() + 60_000)).due).toBe(false);
    expect(nextRestoreTest(settings(3), now, now)).toEqual(new Date(now.getTime() + 3 * DAY));
  });
});

describe('scratch names', () => {
  const prefix = '__mbm_rtest_0123abcd_';

  it('renames every database, those created by the oplog later included, and only the database part', () => {
    const f = new NamespaceFilter({ rename: scratchRenames(prefix, ['shop.orders', 'shop.audit']) });
    expect(f.rename('shop.orders')).toBe(`${prefix}shop.orders`);
    expect(f.rename('shop.a.b.c')).toBe(`${prefix}shop.a.b.c`);
    expect(f.rename('later.items')).toBe(`${prefix}later.items`);
  });

  it('keeps a long database name under 64 bytes, distinct from its neighbours by a hash', () => {
    const a = `a${'x'.repeat(60)}1`;
    const b = `a${'x'.repeat(60)}2`;
    const f = new NamespaceFilter({ rename: scratchRenames(prefix, [`${a}.c`, `${b}.c`, 'short.c']) });
    const [ra, rb] = [f.rename(`${a}.c`), f.rename(`${b}.c`)];
    for (const r of [ra, rb]) {
      const db = r.slice(0, r.indexOf('.'));
      expect(Buffer.byteLength(db)).toBeLessThanOrEqual(63);
      expect(db.startsWith(prefix)).toBe(true);
      expect(r.endsWith('.c')).toBe(true);
    }
    expect(ra).not.toBe(rb);
    expect(f.rename('short.c')).toBe(`${prefix}short.c`);
    // Multi-byte names are cut on characters, and still fit.
    const wide = 'é'.repeat(40);
    const w = new NamespaceFilter({ rename: scratchRenames(prefix, [`${wide}.c`]) }).rename(`${wide}.c`);
    expect(Buffer.byteLength(w.slice(0, w.indexOf('.')))).toBeLessThanOrEqual(63);
  });
});

describe('restore test target in the policy', () => {
  it('refuses a password or a secret option in the target string (the policy is mirrored into the repository)', () => {
    const with_ = (uri: string) => validatePolicy({ ...DEFAULT_POLICY, restoreTest: settings(7, uri) });
    expect(with_('mongodb://tester@scratch/')).toEqual([]);
    expect(with_('mongodb://tester:pw@scratch/')).toEqual([
      expect.stringContaining('must not hold a password'),
    ]);
    expect(with_('mongodb://scratch/?tls=true&tlsCertificateKeyFilePassword=k')).toEqual([
      expect.stringContaining('tlsCertificateKeyFilePassword'),
    ]);
    expect(with_('http://scratch/')).toEqual([expect.stringContaining('Restore test target')]);
  });
});
