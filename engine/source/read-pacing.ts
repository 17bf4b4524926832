/**
 * When capture's next getMore goes out while the source is not ahead of it (replies not full).
 *
 * A tailable awaitData getMore returns as soon as anything is there, so reading as fast as replies
 * come costs one round trip (and its reply's handling, here and on the server) per few writes.
 * One getMore per group commit is enough: sent about one round trip before the commit's slot (the
 * last commit's start + journalFsyncMs), so that its reply is there when the slot comes and the
 * commit interval stays journalFsyncMs (sent at the slot, each commit waited for a round trip).
 * The commit timer is armed for the slot whatever reads do, so a slow read never delays a commit
 * of what is already pending; a reply that comes after the slot with nothing pending is committed
 * as soon as it is taken.
 */

export interface ReadPacing {
  /** When the last getMore went out (ms). */
  lastFetch: number;
  /** The shortest time between two getMores (ms). */
  readIntervalMs: number;
  /** The next group commit's slot (ms: the last commit's start + journalFsyncMs), or null before the first. */
  nextCommitAt: number | null;
  /** A round trip most recent getMores beat (ms; see RoundTripEstimate), or null before the first. */
  roundTripMs: number | null;
  /** Entries read and not yet taken by a commit. */
  pending: number;
}

/**
 * How long before the commit's slot the getMore goes: the measured round trip, at most the read
 * interval. A longer one is a stall or an awaitData wait (a quiet source), not the link; reading
 * that much earlier would only leave more entries for the commit after.
 */
export function readLeadMs(roundTripMs: number | null, readIntervalMs: number): number {
  if (roundTripMs === null || !(roundTripMs > 0)) return 0;
  return Math.min(Math.round(roundTripMs), readIntervalMs);
}

/**
 * When the next getMore may go out (ms, compared with Date.now()): never sooner than a read interval
 * after the last one, and a lead before the next slot, whatever is pending (entries read earlier
 * wait for that slot either way). When that moment has passed: with nothing pending, at once (the
 * reply is committed as soon as it is taken); with entries pending, a reply now would come just
 * after the commit took them and its entries would wait for the commit after, so the read waits
 * for this commit to start (which wakes it; then it is paced to the next slot). A commit not
 * started a read interval after its slot is held up by a slow write: reading then goes on at the
 * read interval (a backlog builds while it writes).
 */
export function nextReadAt(p: ReadPacing): number {
  const soonest = p.lastFetch + p.readIntervalMs;
  if (p.nextCommitAt === null) return soonest;
  const target = p.nextCommitAt - readLeadMs(p.roundTripMs, p.readIntervalMs);
  if (soonest <= target || p.pending === 0) return Math.max(soonest, target);
  return Math.max(soonest, p.nextCommitAt + p.readIntervalMs);
}

/**
 * A round trip most getMores beat, from exponentially weighted averages of recent ones (RFC 6298's
 * estimator: the smoothed round trip, each new one weighing 1/8, plus a multiple of the smoothed
 * deviation, weighing 1/4; twice it here, where TCP's retransmission timeout takes four times). On
 * a loaded machine round trips vary several-fold (in the capture bench 4-56 ms, p10-p90), and a
 * reply later than the slot delays that commit, while an early one costs nothing but a few entries
 * waiting one commit more. Each sample is clamped to `maxMs` (capture passes the read interval,
 * beyond which the lead stops growing), so one very slow reply (a stall, an awaitData wait) does
 * not hold the estimate up for long.
 */
export class RoundTripEstimate {
  private avg: number | null = null;
  private dev = 0;

  /** The smoothed round trip plus twice its smoothed deviation (ms), or null before the first. */
  get ms(): number | null {
    return this.avg === null ? null : this.avg + 2 * this.dev;
  }

  add(sampleMs: number, maxMs: number): void {
    const s = Math.min(Math.max(0, sampleMs), maxMs);
    if (this.avg === null) {
      this.avg = s;
      this.dev = s / 2;
      return;
    }
    this.dev += (Math.abs(s - this.avg) - this.dev) / 4;
    this.avg += (s - this.avg) / 8;
  }
}
