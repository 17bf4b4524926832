/**
 * When capture sends its next getMore (engine/source/read-pacing.ts): about one measured round
 * trip before the group commit's slot while nothing read waits, so the reply is there when the
 * slot comes and commits stay journalFsyncMs apart; the read interval alone while something waits.
 */
import { describe, expect, it } from 'vitest';
import { RoundTripEstimate, nextReadAt, readLeadMs } from '../../engine/source/read-pacing.js';

const RI = 50; // the read interval at journalFsyncMs 200
const FSYNC = 200;

describe('nextReadAt', () => {
  it('before the first commit, reads a read interval after the last one', () => {
    expect(
      nextReadAt({ lastFetch: 1000, readIntervalMs: RI, nextCommitAt: null, roundTripMs: 20, pending: 0 }),
    ).toBe(1050);
  });

  it('with entries pending, still reads once, a round trip before the slot they wait for', () => {
    // A reply came just after a commit took the rest: one read for the next slot, not one per read interval.
    expect(
      nextReadAt({ lastFetch: 1000, readIntervalMs: RI, nextCommitAt: 1190, roundTripMs: 20, pending: 7 }),
    ).toBe(1170);
  });

  it('after an early reply, waits for the commit to take it (its start wakes the wait), a read interval past the slot at most', () => {
    // Read at 1180, in at 1195 with the slot at 1200: a read now would come back after the commit.
    expect(
      nextReadAt({ lastFetch: 1180, readIntervalMs: RI, nextCommitAt: 1200, roundTripMs: 20, pending: 7 }),
    ).toBe(1250);
    // The commit is held up by a slow write: reading goes on at the read interval.
    expect(
      nextReadAt({ lastFetch: 1250, readIntervalMs: RI, nextCommitAt: 1200, roundTripMs: 20, pending: 9 }),
    ).toBe(1300);
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

  it('never reads sooner than a read interval after the last one; with the slot passed and nothing pending, then', () => {
    expect(
      nextReadAt({ lastFetch: 1180, readIntervalMs: RI, nextCommitAt: 1200, roundTripMs: 20, pending: 0 }),
    ).toBe(1230);
    // A quiet source: the last commit long ago, each getMore waits maxAwaitTimeMS for entries.
    expect(
      nextReadAt({ lastFetch: 9000, readIntervalMs: RI, nextCommitAt: 1200, roundTripMs: 20, pending: 0 }),
    ).toBe(9050);
  });

  it('leads by the measured round trip, the read interval at most', () => {
    expect(readLeadMs(500, RI)).toBe(50);
    expect(readLeadMs(23.6, RI)).toBe(24);
    expect(readLeadMs(null, RI)).toBe(0);
    expect(readLeadMs(0, RI)).toBe(0);
    expect(readLeadMs(Number.NaN, RI)).toBe(0);
    expect(readLeadMs(3, 2)).toBe(2); // journalFsyncMs 8: read interval 2
    expect(
      nextReadAt({ lastFetch: 0, readIntervalMs: RI, nextCommitAt: 1200, roundTripMs: 900, pending: 0 }),
    ).toBe(1150);
  });

  /**
   * The capture loop's timeline at a busy source (entries always there): a getMore at nextReadAt,
   * its reply a round trip later, the commit at the slot if the reply is there, else when it is
   * (scheduleCommit finds the slot passed). Returns the intervals between commit starts.
   */
  function commitIntervals(roundTrips: number[], measure: boolean): number[] {
    const avg = new RoundTripEstimate();
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
    // One stalled reply (150 ms): that commit starts when it is in, the next ones on their slots.
    const stall = [...steady.slice(0, 20), 150, ...steady.slice(0, 20)];
    const s = commitIntervals(stall, true);
    expect(s.slice(1, 19).every((x) => x === 200)).toBe(true);
    expect(s[19]).toBe(200 + 150 - 30);
    expect(s.slice(20).every((x) => x === 200)).toBe(true);
  });
});

describe('RoundTripEstimate', () => {
  it('is the smoothed round trip (1/8) plus twice the smoothed deviation (1/4), samples clamped to [0, max]', () => {
    const e = new RoundTripEstimate();
    expect(e.ms).toBeNull();
    e.add(16, 50);
    expect(e.ms).toBe(16 + 2 * 8); // RFC 6298: the first deviation is half the first round trip
    e.add(24, 50);
    // deviation 8 + (|24 - 16| - 8) / 4 = 8; average 16 + 8 / 8 = 17
    expect(e.ms).toBe(17 + 2 * 8);
    e.add(5_000, 50); // a stall or an awaitData wait counts as the max only
    const dev = 8 + (33 - 8) / 4;
    const avg = 17 + 33 / 8;
    expect(e.ms).toBeCloseTo(avg + 2 * dev, 10);
    e.add(-3, 50);
    expect(e.ms).toBeCloseTo(avg - avg / 8 + 2 * (dev + (avg - dev) / 4), 10);
  });

  it('settles on a steady round trip, and grows its margin with the spread', () => {
    const steady = new RoundTripEstimate();
    const spread = new RoundTripEstimate();
    for (let k = 0; k < 100; k++) {
      steady.add(20, 50);
      spread.add(k % 2 ? 10 : 30, 50);
    }
    expect(steady.ms).toBeCloseTo(20, 3);
    expect(spread.ms!).toBeGreaterThan(35);
    expect(spread.ms!).toBeLessThan(45);
  });
});
