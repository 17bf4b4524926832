/**
 * What a restore has done to each target namespace so far, kept as it goes so
 * that a restore that fails midway (an in-place restore above all, whose
 * namespaces were dropped first) can say exactly which namespace is in which
 * state:
 *  - untouched: nothing was done to it (the target's own data, if any, is as it was);
 *  - dropped: the target's collection was dropped and nothing restored into it yet;
 *  - partially restored: created and being filled (documents, indexes), or filled from the
 *    snapshot while the oplog replay to the point had not finished;
 *  - restored: complete at the restore point.
 */
export type NamespaceState = 'untouched' | 'dropped' | 'partially restored' | 'restored';

export interface NamespaceStateEntry {
  /** The namespace on the target. */
  namespace: string;
  /** Its name in the backup. */
  source: string;
  state: NamespaceState;
  /** What was done: the step reached, documents copied. */
  detail: string;
}

export class NamespaceStates {
  private readonly entries = new Map<string, NamespaceStateEntry>();
  /** A state every namespace has reached at once (set per oplog segment: kept once, not per namespace). */
  private all: { state: NamespaceState; detail: string } | null = null;

  /** A namespace the restore will write, untouched to begin with. */
  add(source: string, target: string): void {
    this.entries.set(target, { namespace: target, source, state: 'untouched', detail: 'not reached' });
  }

  has(target: string): boolean {
    return this.entries.has(target);
  }

  set(target: string, state: NamespaceState, detail: string): void {
    const e = this.entries.get(target);
    if (e) Object.assign(e, { state, detail });
  }

  /** Every namespace at once (the oplog replay moves them all together). */
  setAll(state: NamespaceState, detail: string): void {
    this.all = { state, detail };
  }

  list(): NamespaceStateEntry[] {
    return [...this.entries.values()].map((e) => ({ ...e, ...(this.all ?? {}) }));
  }
}
