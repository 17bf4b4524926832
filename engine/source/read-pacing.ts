/**
 * When capture's next getMore goes out while the source is not ahead of it (replies not full).
 *
 * A tailable awaitData getMore returns as soon as anything is there, so reading as fast as replies
 * come costs one round trip (and its reply's handling, here and on the server) per few writes.
 * While nothing read waits for a commit, one getMore per group commit is enough, sent about one
 * round trip before the commit's slot (the last commit's start + journalFsyncMs) so that its reply
 * is there when the slot comes and the commit interval stays journalFsyncMs: sent at the slot, each
 * commit waited for the round trip first. While something read waits for a commit (a commit still
 * writing, a backlog) the read interval alone paces reads; the commit timer is armed for the slot
 * regardless of reads, so a slow read never delays a commit of what is already pending (a reply
 * that comes after the slot with nothing pending is committed as soon as it is taken).
 */

export interface ReadPacing {
  /** When the last getMore went out (ms). */
  lastFetch: number;
  /** The shortest time between two getMores (ms). */
  readIntervalMs: number;
  /** The next group commit's slot (ms), or null before the first commit. */
  nextCommitAt: number | null;
  /** Recent getMore round trips, averaged (ms; see RoundTripAverage), or null before the first. */
  roundTripMs: number | null;
  /** Entries read and not yet taken by a commit. */
  pending: number;
}

/**
 * How long before the commit's slot the getMore goes: the measured round trip, kept under the
 * read interval. Under it, the read after an early reply (soonest: a read interval later) comes
 * after the slot, when the commit has taken that reply, so it is one getMore per commit; and a
 * round trip inflated by an awaitData wait (a quiet source, a slow link) moves reads at most that
 * much earlier, which costs nothing but those entries waiting one commit more.
 */
export function readLeadMs(roundTripMs: number | null, readIntervalMs: number): number {
  if (roundTripMs === null || !(roundTripMs > 0)) return 0;
  return Math.min(Math.round(roundTripMs), readIntervalMs - 1);
}

/** When the next getMore may go out (ms, compared with Date.now()). */
export function nextReadAt(p: ReadPacing): number {
  const soonest = p.lastFetch + p.readIntervalMs;
  if (p.pending > 0 || p.nextCommitAt === null) return soonest;
  return Math.max(soonest, p.nextCommitAt - readLeadMs(p.roundTripMs, p.readIntervalMs));
}

/**
 * An exponentially weighted average of getMore round trips (each new one weighs 1/8, as TCP's
 * smoothed RTT, RFC 6298): steady under one slow reply, current within a few commits. Each sample
 * is clamped to `maxMs` (capture passes the read interval, beyond which the lead stops growing) so
 * that one very slow reply (a stall, an awaitData wait) does not hold the average up for long.
 */
export class RoundTripAverage {
  private avg: number | null = null;

  get ms(): number | null {
    return this.avg;
  }

  add(sampleMs: number, maxMs: number): void {
    const s = Math.min(Math.max(0, sampleMs), maxMs);
    this.avg = this.avg === null ? s : this.avg + (s - this.avg) / 8;
  }
}
