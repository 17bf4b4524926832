/**
 * When capture sends its next getMore (engine/source/read-pacing.ts): about one measured round
 * trip before the group commit's slot while nothing read waits, so the reply is there when the
 * slot comes and commits stay journalFsyncMs apart; the read interval alone while something waits.
 */
import { describe, expect, it } from 'vitest';
import { RoundTripAverage, nextReadAt, readLeadMs } from '../../engine/source/read-pacing.js';

const RI = 50; // the read interval at journalFsyncMs 200
const FSYNC = 200;

describe('nextReadAt', () => {
  it('before the first commit, reads a read interval after the last one', () => {
    expect(
      nextReadAt({ lastFetch: 1000, readIntervalMs: RI, nextCommitAt: null, roundTripMs: 20, pending: 0 }),
    ).toBe(1050);
  });

  it('while entries wait for a commit, the read interval alone paces reads (never the slot)', () => {
    expect(
      nextReadAt({ lastFetch: 1000, readIntervalMs: RI, nextCommitAt: 1190, roundTripMs: 20, pending: 7 }),
    ).toBe(1050);
  });

  it('with nothing pending, reads one measured round trip before the slot', () => {
    expect(
      nextReadAt({ lastFetch: 1000, readIntervalMs: RI, nextCommitAt: 1200, roundTripMs: 23.4, pending: 0 }),
    ).toBe(1177);
    // No round trip measured yet: at the slot itself.
    expect(
      nextReadAt({ lastFetch: 1000, readIntervalMs: RI, nextCommitAt: 1200, roundTripMs: null, pending: 0 }),
    ).toBe(1200);
  });

  it('never reads sooner than a read interval after the last one', () => {
    expect(
      nextReadAt({ lastFetch: 1180, readIntervalMs: RI, nextCommitAt: 1200, roundTripMs: 20, pending: 0 }),
    ).toBe(1230);
  });

  it('keeps the lead under the read interval, so the read after an early reply comes after the slot', () => {
    expect(readLeadMs(500, RI)).toBe(49);
    expect(readLeadMs(null, RI)).toBe(0);
    expect(readLeadMs(0, RI)).toBe(0);
    expect(readLeadMs(Number.NaN, RI)).toBe(0);
    expect(readLeadMs(3, 2)).toBe(1); // journalFsyncMs 8: read interval 2
    for (const rtt of [0, 1, 10, 30, 49, 50, 80, 1000]) {
      const slot = 10_000;
      const read = nextReadAt({
        lastFetch: 9_000,
        readIntervalMs: RI,
        nextCommitAt: slot,
        roundTripMs: rtt,
        pending: 0,
      });
      expect(read).toBeGreaterThan(slot - RI);
      // Its reply came early (entries pending, the commit timer armed for the slot): the next read
      // goes out after the slot, when that commit has taken them.
      const after = nextReadAt({
        lastFetch: read,
        readIntervalMs: RI,
        nextCommitAt: slot,
        roundTripMs: rtt,
        pending: 1,
      });
      expect(after).toBeGreaterThan(slot);
    }
  });

  /**
   * The capture loop's timeline at a busy source (entries always there): a getMore at nextReadAt,
   * its reply a round trip later, the commit at the slot if the reply is there, else when it is
   * (scheduleCommit finds the slot passed). Returns the intervals between commit starts.
   */
  function commitIntervals(roundTrips: number[], measure: boolean): number[] {
    const avg = new RoundTripAverage();
    let lastCommit = 0;
    let lastFetch = 0;
    const commits: number[] = [];
    for (const rtt of roundTrips) {
      const read = nextReadAt({
        lastFetch,
        readIntervalMs: RI,
        nextCommitAt: lastCommit + FSYNC,
        roundTripMs: measure ? avg.ms : null,
        pending: 0,
      });
      lastFetch = read;
      const reply = read + rtt;
      avg.add(rtt, RI);
      lastCommit = Math.max(lastCommit + FSYNC, reply);
      commits.push(lastCommit);
    }
    return commits.slice(1).map((c, k) => c - commits[k]!);
  }

  it('keeps commits journalFsyncMs apart where reading at the slot made each wait a round trip', () => {
    const steady = Array.from({ length: 40 }, () => 30);
    expect(commitIntervals(steady, false).every((d) => d === 230)).toBe(true);
    expect(commitIntervals(steady, true).slice(1)).toEqual(Array.from({ length: 38 }, () => 200));
    // A round trip varying 20-35 ms: a commit late only by how much a reply outran the average.
    const varying = Array.from({ length: 200 }, (_, k) => 20 + ((k * 7) % 16));
    const d = commitIntervals(varying, true).slice(10);
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    expect(Math.max(...d)).toBeLessThanOrEqual(FSYNC + 15);
    expect(mean).toBeLessThan(FSYNC + 5);
    expect(mean).toBeGreaterThanOrEqual(FSYNC);
  });
});

describe('RoundTripAverage', () => {
  it('starts at the first sample, then weighs each new one 1/8, clamped to [0, max]', () => {
    const a = new RoundTripAverage();
    expect(a.ms).toBeNull();
    a.add(16, 50);
    expect(a.ms).toBe(16);
    a.add(24, 50);
    expect(a.ms).toBe(17);
    a.add(5_000, 50); // a stall or an awaitData wait counts as the max only
    expect(a.ms).toBeCloseTo(17 + 33 / 8, 10);
    a.add(-3, 50);
    expect(a.ms).toBeCloseTo(17 + 33 / 8 - (17 + 33 / 8) / 8, 10);
  });
});
