/**
 * The finder reads the capture journal's durable tail: a dropDatabase
 * written to a journal (as capture writes one, with its catalog row) is a
 * finding within about a second of the group commit's event, before any
 * segment holds it; sealing the journal into its segment finds the very same
 * finding again, stored once (same row, same fields). A mass delete whose
 * first half is in the last sealed segment and second half in the journal is
 * one finding from its first delete, before and after the seal. A journal
 * that grows by group commits (and a second one behind it, not yet sealed) is
 * scanned from where the last tail scan stopped: each entry once, a record
 * not yet in the catalog only once it is, the same findings as a whole scan.
 * A seal whose entries the tail scan has read already takes its scan from
 * there (no second scan in the worker): the stored state and findings are
 * the scan worker's, byte for byte. Records capture hands on as it commits
 * them are scanned from memory (the file is not read back); after one that
 * was not handed on, the file is read again.
 */
import { Long, Timestamp, UUID, serialize, type Document } from 'bson';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IncidentScanner } from '../../engine/incidents/incident-scanner.js';
import { EntrySummary, INDEX_WORDS, summarizeEntry } from '../../engine/oplog/entry-summary.js';
import { forgetIncidents, incidentScan, incidentsBetween } from '../../engine/catalog/incidents.js';
import { saveJournalTail } from '../../engine/catalog/journals.js';
import { newestSegmentEnd } from '../../engine/catalog/segments.js';
import { readEntryTs } from '../../engine/repo/bson-entries.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { JournalWriter } from '../../engine/repo/journal-file.js';
import { compareOpTime, type OpTime } from '../../engine/repo/optime.js';
import { makeStore, type StoreFixture } from '../support/store-fixture.js';

let fx: StoreFixture;
afterEach(async () => fx?.close());

const rows = (fx: StoreFixture) =>
  incidentsBetween(fx.engine.catalog, fx.sourceId, null, null, 100).map((r) => ({ ...r }));

/** Entries at consecutive ts from `from` (one second per `perSecond` entries). */
function entries(from: OpTime, docs: Document[], perSecond = 1000): Uint8Array[] {
  return docs.map((d, k) =>
    serialize({
      ts: new Timestamp({
        t: from.t + Math.floor((from.i - 1 + k) / perSecond),
        i: ((from.i - 1 + k) % perSecond) + 1,
      }),
      t: Long.fromNumber(1),
      v: Long.fromNumber(2),
      wall: new Date((from.t + k / perSecond) * 1000),
      ...d,
    }),
  );
}

const tsOf = (e: Uint8Array): OpTime => readEntryTs(e);

/**
 * Appends `list` to journal `w` as one group commit and, unless `inCatalog` is false, records the
 * journal's durable tail as capture does (`count`: the journal's entries after this commit); the payload.
 */
async function commitRecord(
  fx: StoreFixture,
  w: JournalWriter,
  tail: { first: OpTime; prev: OpTime | null; count: number },
  list: Uint8Array[],
  inCatalog = true,
): Promise<Buffer> {
  const payload = Buffer.concat(list.map((e) => Buffer.from(e)));
  await w.append(payload, list.length);
  if (inCatalog)
    saveJournalTail(fx.engine.catalog, {
      path: w.relPath,
      sourceId: fx.sourceId,
      firstTs: tail.first,
      lastTs: tsOf(list.at(-1)!),
      prevLastTs: tail.prev,
      count: tail.count,
      bytes: w.bytes,
    });
  return payload;
}

/** Capture's entry index of `list` (JournalRecord.entries): each entry's ts and summary. */
function indexOf(list: Uint8Array[]): Uint32Array {
  const index = new Uint32Array(list.length * INDEX_WORDS);
  const s = new EntrySummary();
  list.forEach((e, k) => {
    summarizeEntry(e, s);
    index.set([s.t, s.i, s.summary], k * INDEX_WORDS);
  });
  return index;
}

/** Writes `list` to a new journal file and its catalog row, as a group commit of capture does, and announces it. */
async function journal(fx: StoreFixture, list: Uint8Array[]) {
  const prev = fx.store.chainTip(fx.sourceId);
  const first = tsOf(list[0]!);
  const last = tsOf(list[list.length - 1]!);
  const w = await JournalWriter.create(fx.repo, fx.sourceId, first, prev);
  const payload = Buffer.concat(list.map((e) => Buffer.from(e)));
  await w.append(payload, list.length);
  saveJournalTail(fx.engine.catalog, {
    path: w.relPath,
    sourceId: fx.sourceId,
    firstTs: first,
    lastTs: last,
    prevLastTs: prev,
    count: list.length,
    bytes: w.bytes,
  });
  const announced = Date.now();
  fx.engine.events.publish('capture.segment', {
    sourceId: fx.sourceId,
    source: 'prod-rs',
    lastTs: { ...last, text: `${last.t}:${last.i}`, wall: new Date(last.t * 1000).toISOString() },
  });
  return {
    announced,
    seal: () =>
      fx.store.sealJournal(fx.sourceId, w.relPath, payload, { first, last, count: list.length }, prev),
  };
}

async function until<T>(f: () => T | undefined | null, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('incident finder on the capture journal tail', () => {
  it('finds a dropDatabase in the journal before the seal, and the same finding once after it', async () => {
    fx = await makeStore();
    await fx.appendSegments(2, 20);
    await fx.engine.incidents.catchUp(fx.sourceId);
    const tip = fx.store.chainTip(fx.sourceId)!;
    const ui = new UUID();
    const list = entries({ t: tip.t + 1, i: 1 }, [
      { op: 'i', ns: 'crm.a', ui, o: { _id: 1 } },
      { op: 'c', ns: 'crm.$cmd', o: { drop: 'a' }, o2: { numRecords: Long.fromNumber(40) } },
      { op: 'c', ns: 'crm.$cmd', o: { drop: 'b' }, o2: { numRecords: Long.fromNumber(2) } },
      { op: 'c', ns: 'crm.$cmd', o: { dropDatabase: 1 } },
    ]);
    const j = await journal(fx, list);
    const found = await until(() => rows(fx).find((r) => r.kind === 'dropDatabase'));
    const latencyMs = Date.now() - j.announced;
    expect(latencyMs).toBeLessThan(1500);
    // No segment holds it yet: only the journal tail could have shown it.
    expect(compareOpTime(newestSegmentEnd(fx.engine.catalog, fx.sourceId)!, tsOf(list[1]!))).toBeLessThan(0);
    expect(found).toMatchObject({
      ns: 'crm',
      size: 42,
      first_t: tsOf(list[1]!).t,
      first_i: tsOf(list[1]!).i,
      before_t: tsOf(list[0]!).t,
      before_i: tsOf(list[0]!).i,
    });
    expect(rows(fx).filter((r) => r.kind === 'drop')).toEqual([]); // taken in by the dropDatabase
    const before = rows(fx);
    expect(before).toHaveLength(1);

    // Capture goes on: more group commits rescan the tail, nothing changes.
    fx.engine.incidents.journalMoved(fx.sourceId);
    await fx.engine.incidents.scanJournalTail(fx.sourceId);
    expect(rows(fx)).toEqual(before);

    // Sealed: the segment scan finds it again from the same state, stored once.
    await j.seal();
    await fx.engine.incidents.catchUp(fx.sourceId);
    expect(fx.engine.incidents.status(fx.sourceId).pending).toBe(0);
    expect(rows(fx)).toEqual(before);
    console.log(`journal tail: dropDatabase stored ${latencyMs} ms after the group commit's event`);
  });

  it('counts a mass delete across the last sealed segment and the journal as one finding', async () => {
    fx = await makeStore();
    await fx.appendSegments(1, 20);
    const tip = fx.store.chainTip(fx.sourceId)!;
    const ui = new UUID();
    const deletes = (from: number, n: number) =>
      Array.from({ length: n }, (_, k) => ({ op: 'd', ns: 'shop.items', ui, o: { _id: from + k } }));
    // 700 deletes in the sealed segment and 700 in the journal, 1,400 within 2 seconds (threshold 1,000 in 10 s).
    const sealed = entries({ t: tip.t + 1, i: 1 }, deletes(0, 700), 700);
    await fx.store.appendSegment(fx.sourceId, sealed, tip);
    await fx.engine.incidents.catchUp(fx.sourceId);
    expect(rows(fx)).toEqual([]); // 700 alone is no finding
    const tail = entries({ t: tip.t + 2, i: 1 }, deletes(700, 700), 700);
    const j = await journal(fx, tail);
    const found = await until(() => rows(fx).find((r) => r.kind === 'massDelete'));
    expect(found).toMatchObject({
      ns: 'shop.items',
      size: 1400,
      first_t: tsOf(sealed[0]!).t,
      first_i: tsOf(sealed[0]!).i,
      before_t: tip.t,
      before_i: tip.i,
    });
    const before = rows(fx);
    expect(before).toHaveLength(1);
    await j.seal();
    await fx.engine.incidents.catchUp(fx.sourceId);
    expect(rows(fx)).toEqual(before);
    expect(fx.engine.incidents.tailScans).toBeGreaterThan(0);
  });

  it('goes on from where the last tail scan stopped: each entry scanned once, findings as a whole scan', async () => {
    fx = await makeStore();
    await fx.appendSegments(1, 20);
    await fx.engine.incidents.catchUp(fx.sourceId);
    const tip = fx.store.chainTip(fx.sourceId)!;
    const ui = new UUID();
    const deletes = (from: number, n: number) =>
      Array.from({ length: n }, (_, k) => ({ op: 'd', ns: 'shop.items', ui, o: { _id: from + k } }));
    // 1,500 deletes in 1.5 s, in 6 group commits of 250 over two journals (capture cut the first).
    const all = entries({ t: tip.t + 1, i: 1 }, deletes(0, 1500), 1000);
    const records = Array.from({ length: 6 }, (_, k) => all.slice(k * 250, (k + 1) * 250));
    const finder = fx.engine.incidents;
    const writers: { w: JournalWriter; first: OpTime; prev: OpTime | null; count: number }[] = [];
    const commit = async (list: Uint8Array[], newJournal: boolean, inCatalog = true) => {
      if (newJournal) {
        const prev = writers.length ? tsOf(all[writers.length * 750 - 1]!) : tip;
        const first = tsOf(list[0]!);
        writers.push({
          w: await JournalWriter.create(fx.repo, fx.sourceId, first, prev),
          first,
          prev,
          count: 0,
        });
      }
      const j = writers.at(-1)!;
      j.count += list.length;
      await commitRecord(fx, j.w, j, list, inCatalog);
    };
    const scanned0 = finder.tailEntries;
    await commit(records[0]!, true);
    await finder.scanJournalTail(fx.sourceId);
    expect(finder.tailEntries - scanned0).toBe(250);
    // Written and fsynced, but its catalog row not yet updated: waits.
    await commit(records[1]!, false, false);
    await finder.scanJournalTail(fx.sourceId);
    expect(finder.tailEntries - scanned0).toBe(250);
    await commit(records[2]!, false); // the row now covers records 1 and 2
    await finder.scanJournalTail(fx.sourceId);
    expect(finder.tailEntries - scanned0).toBe(750);
    expect(rows(fx)).toEqual([]); // 750 deletes: no finding yet
    for (const [k, list] of records.slice(3).entries()) {
      await commit(list, k === 0);
      await finder.scanJournalTail(fx.sourceId);
    }
    await finder.scanJournalTail(fx.sourceId); // nothing new: nothing scanned again
    expect(finder.tailEntries - scanned0).toBe(1500);
    const found = rows(fx);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      kind: 'massDelete',
      ns: 'shop.items',
      size: 1500,
      first_t: tsOf(all[0]!).t,
      first_i: tsOf(all[0]!).i,
      before_t: tip.t,
      before_i: tip.i,
    });

    // What a whole scan finds from the same stored state: the sealed segments' scan.
    const payloads = [all.slice(0, 750), all.slice(750)];
    for (const [k, j] of writers.entries())
      await fx.store.sealJournal(
        fx.sourceId,
        j.w.relPath,
        Buffer.concat(payloads[k]!.map((e) => Buffer.from(e))),
        { first: j.first, last: tsOf(payloads[k]!.at(-1)!), count: j.count },
        j.prev,
      );
    await finder.catchUp(fx.sourceId);
    expect(finder.status(fx.sourceId).pending).toBe(0);
    expect(rows(fx)).toEqual(found);
  });

  it("takes a seal's scan from the tail scan that read its entries: the same state and findings as the worker's", async () => {
    fx = await makeStore();
    await fx.appendSegments(1, 20);
    await fx.engine.incidents.catchUp(fx.sourceId);
    const tip = fx.store.chainTip(fx.sourceId)!;
    const ui = new UUID();
    // Deletes of one namespace and updates of another, 700 a second: findings that span the journals.
    const ops = Array.from({ length: 3000 }, (_, k) =>
      k % 2
        ? { op: 'u', ns: 'shop.profiles', ui, o: { $v: 2, diff: { u: { n: k } } }, o2: { _id: k } }
        : { op: 'd', ns: 'shop.items', ui, o: { _id: k } },
    );
    const all = entries({ t: tip.t + 1, i: 1 }, ops, 700);
    const db = fx.engine.catalog;
    const finder = fx.engine.incidents;
    const base = { ...finder.scanned };
    const since = () => ({
      fromTail: finder.scanned.fromTail - base.fromTail,
      fromMemory: finder.scanned.fromMemory - base.fromMemory,
    });
    let prev: OpTime | null = tip;
    /** One journal file per slice of `all`; `commit(n)` appends its next n entries as one group commit. */
    const open = async (from: number) => {
      const first = tsOf(all[from]!);
      const link = prev;
      const w = await JournalWriter.create(fx.repo, fx.sourceId, first, link);
      let count = 0;
      return {
        commit: async (n: number) => {
          const list = all.slice(from + count, from + count + n);
          count += list.length;
          await commitRecord(fx, w, { first, prev: link, count }, list);
          prev = tsOf(list.at(-1)!);
        },
        seal: async () => {
          const list = all.slice(from, from + count);
          await fx.store.sealJournal(
            fx.sourceId,
            w.relPath,
            Buffer.concat(list.map((e) => Buffer.from(e))),
            { first, last: tsOf(list.at(-1)!), count },
            link,
          );
          await finder.catchUp(fx.sourceId);
          expect(finder.status(fx.sourceId).pending).toBe(0);
          // The seal also schedules a tail scan (250 ms on): let it run now, or on a slow machine it
          // would read the next journal's commits between this test's own scans and change which
          // path the next seal takes. A later timer fires after it; the scan queued behind it waits.
          await new Promise((r) => setTimeout(r, 0)); // the catchUp's follow-up has scheduled it
          await new Promise((r) => setTimeout(r, 300));
          await finder.scanJournalTail(fx.sourceId);
        },
      };
    };
    const j1 = await open(0);
    for (let k = 0; k < 4; k++) await j1.commit(250);
    await finder.scanJournalTail(fx.sourceId);
    const j2 = await open(1000);
    await j2.commit(300);
    await finder.scanJournalTail(fx.sourceId); // on into the next journal: the first one's end is kept
    // Sealed: its scan is the tail scan's, as it stood at the end of its entries.
    await j1.seal();
    expect(since()).toEqual({ fromTail: 1, fromMemory: 0 });
    // The next one sealed before the tail scan read its last group commit: that rest is scanned then.
    await j2.commit(300);
    await finder.scanJournalTail(fx.sourceId);
    await j2.commit(100);
    await j2.seal();
    expect(since()).toEqual({ fromTail: 2, fromMemory: 0 });
    // Too much left unread by the tail scan (3 commits of 4): the scan worker scans it.
    await finder.scanJournalTail(fx.sourceId);
    const j3 = await open(1700);
    await j3.commit(250);
    await finder.scanJournalTail(fx.sourceId);
    for (let k = 0; k < 3; k++) await j3.commit(250);
    await j3.seal();
    expect(since()).toEqual({ fromTail: 2, fromMemory: 1 });
    // And one the tail scan never saw.
    const j4 = await open(2700);
    await j4.commit(300);
    await j4.seal();
    expect(since()).toEqual({ fromTail: 2, fromMemory: 2 });

    const stored = rows(fx).map(({ id: _, ...r }) => r);
    const scan = incidentScan(db, fx.sourceId)!;
    expect(stored.filter((r) => r.kind === 'massDelete').length).toBeGreaterThan(0);
    expect(stored.filter((r) => r.kind === 'massUpdate').length).toBeGreaterThan(0);
    // What the scan worker finds from the start, reading every segment from its file.
    forgetIncidents(db, fx.sourceId);
    await finder.catchUp(fx.sourceId);
    expect(finder.scanned.fromFiles).toBe(scan.segments);
    expect(rows(fx).map(({ id: _, ...r }) => r)).toEqual(stored);
    expect({ ...incidentScan(db, fx.sourceId), updated_at: null }).toEqual({ ...scan, updated_at: null });
  });

  it('moves past entries on the entry index capture hands on: the same findings and stored scan as reading the files', async () => {
    fx = await makeStore();
    await fx.appendSegments(1, 20);
    await fx.engine.incidents.catchUp(fx.sourceId);
    const tip = fx.store.chainTip(fx.sourceId)!;
    const ui = new UUID();
    // Mostly inserts and no-ops (passed on the index), with what the scan must read among them:
    // drops pending before a dropDatabase (inserts of another database between), dropIndexes
    // ended by an insert, migrations, a mass delete, a transaction, an entry without op.
    const ops: Document[] = [];
    for (let k = 0; k < 3000; k++) {
      if (k % 500 === 100)
        ops.push({ op: 'c', ns: 'crm.$cmd', o: { drop: 'a' }, o2: { numRecords: Long.fromNumber(3) } });
      else if (k % 500 === 102)
        ops.push({ op: 'c', ns: 'crm.$cmd', o: { drop: 'b' }, o2: { numRecords: Long.fromNumber(4) } });
      else if (k % 500 === 104) ops.push({ op: 'c', ns: 'crm.$cmd', o: { dropDatabase: 1 } });
      else if (k % 500 === 200 || k % 500 === 202)
        ops.push({ op: 'c', ns: 'shop.$cmd', o: { dropIndexes: 'items', index: `i${k}` } });
      else if (k % 500 === 300)
        ops.push({ op: 'i', ns: 'shop.items', ui, o: { _id: -k }, fromMigrate: true });
      else if (k % 500 === 301)
        ops.push({ ns: 'shop.items', o: { _id: k } }); // no op: unreadable
      else if (k % 500 === 302)
        ops.push({
          op: 'c',
          ns: 'admin.$cmd',
          lsid: { id: new UUID() },
          txnNumber: Long.fromNumber(k),
          o: { applyOps: [{ op: 'd', ns: 'shop.items', o: { _id: k } }] },
        });
      else if (k >= 1200 && k < 2400 && k % 500 !== 103)
        ops.push({ op: 'd', ns: 'shop.items', ui, o: { _id: k } });
      else if (k % 10 === 5) ops.push({ op: 'n', ns: '', o: { msg: 'periodic noop' } });
      else ops.push({ op: 'i', ns: k % 500 === 103 ? 'shop.items' : 'shop.events', ui, o: { _id: k } });
    }
    const all = entries({ t: tip.t + 1, i: 1 }, ops, 400);
    const db = fx.engine.catalog;
    const finder = fx.engine.incidents;
    const passes = vi.spyOn(IncidentScanner.prototype, 'pass');
    let prev: OpTime | null = tip;
    /** One journal of `commits` group commits of 250 from `from`, each handed on with its index, then sealed. */
    const journal = async (from: number, commits: number, index: (list: Uint8Array[]) => Uint32Array) => {
      const first = tsOf(all[from]!);
      const link = prev;
      const w = await JournalWriter.create(fx.repo, fx.sourceId, first, link);
      for (let k = 0; k < commits; k++) {
        const list = all.slice(from + k * 250, from + (k + 1) * 250);
        const payload = await commitRecord(fx, w, { first, prev: link, count: (k + 1) * 250 }, list);
        prev = tsOf(list.at(-1)!);
        finder.journalRecord(fx.sourceId, {
          path: w.relPath,
          countBefore: k * 250,
          count: 250,
          payload,
          entries: index(list),
          last: prev,
        });
        await finder.scanJournalTail(fx.sourceId);
      }
      const list = all.slice(from, from + commits * 250);
      await fx.store.sealJournal(
        fx.sourceId,
        w.relPath,
        Buffer.concat(list.map((e) => Buffer.from(e))),
        { first, last: prev!, count: list.length },
        link,
      );
      await finder.catchUp(fx.sourceId);
    };
    const fromTail0 = finder.scanned.fromTail;
    const tail0 = finder.tailEntries;
    await journal(0, 4, indexOf);
    const passed = passes.mock.calls.length;
    expect(passes.mock.results.filter((r) => r.value === true).length).toBeGreaterThan(700);
    // An index that does not describe its payload (an entry short, or one too many) is not used:
    // those records are read as before.
    let commit = 0;
    await journal(1000, 4, (list) => (commit++ % 2 ? indexOf([...list, list[0]!]) : indexOf(list.slice(1))));
    expect(passes.mock.calls.length).toBe(passed);
    await journal(2000, 4, indexOf);
    expect(passes.mock.calls.length).toBeGreaterThan(passed);
    expect(finder.tailEntries - tail0).toBe(3000); // each entry once
    expect(finder.scanned.fromTail - fromTail0).toBe(3); // every seal took the tail scan's result
    passes.mockRestore();

    const stored = rows(fx).map(({ id: _, ...r }) => r);
    const scan = incidentScan(db, fx.sourceId)!;
    expect(new Set(stored.map((r) => r.kind))).toEqual(
      new Set(['dropDatabase', 'dropIndexes', 'massDelete']),
    );
    // What the scan worker finds from the start, reading every segment from its file.
    forgetIncidents(db, fx.sourceId);
    await finder.catchUp(fx.sourceId);
    expect(rows(fx).map(({ id: _, ...r }) => r)).toEqual(stored);
    expect({ ...incidentScan(db, fx.sourceId), updated_at: null }).toEqual({ ...scan, updated_at: null });
  });

  it('scans the records capture handed on from memory, and reads the file after one it missed', async () => {
    fx = await makeStore();
    await fx.appendSegments(1, 20);
    await fx.engine.incidents.catchUp(fx.sourceId);
    const tip = fx.store.chainTip(fx.sourceId)!;
    const ui = new UUID();
    const all = entries(
      { t: tip.t + 1, i: 1 },
      Array.from({ length: 1500 }, (_, k) => ({ op: 'd', ns: 'shop.items', ui, o: { _id: k } })),
      1000,
    );
    const finder = fx.engine.incidents;
    /** A journal of three group commits of 250; `handOn(k)` says whether commit k is handed to the finder. */
    const journal = async (from: number, prev: OpTime, handOn: (k: number) => boolean) => {
      const first = tsOf(all[from]!);
      const w = await JournalWriter.create(fx.repo, fx.sourceId, first, prev);
      for (let k = 0; k < 3; k++) {
        const list = all.slice(from + k * 250, from + (k + 1) * 250);
        const payload = await commitRecord(fx, w, { first, prev, count: (k + 1) * 250 }, list);
        const last = tsOf(list.at(-1)!);
        if (handOn(k))
          finder.journalRecord(fx.sourceId, {
            path: w.relPath,
            countBefore: k * 250,
            count: 250,
            payload,
            last,
          });
      }
      return w.relPath;
    };
    const scanned0 = finder.tailEntries;
    const j1 = await journal(0, tip, () => true);
    // Its file damaged after the writes: read back, nothing of it would be scanned.
    const abs = fx.repo.abs(j1);
    const bytes = readFileSync(abs);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0xff, bytes.length - 100);
    writeFileSync(abs, bytes);
    await finder.scanJournalTail(fx.sourceId);
    expect(finder.tailEntries - scanned0).toBe(750); // from memory
    expect(rows(fx)).toEqual([]);
    // The second journal's middle commit was not handed on: that file is read.
    await journal(750, tsOf(all[749]!), (k) => k !== 1);
    await finder.scanJournalTail(fx.sourceId);
    expect(finder.tailEntries - scanned0).toBe(1500);
    expect(rows(fx)).toHaveLength(1);
    expect(rows(fx)[0]).toMatchObject({
      kind: 'massDelete',
      ns: 'shop.items',
      size: 1500,
      first_t: tsOf(all[0]!).t,
      first_i: tsOf(all[0]!).i,
      before_t: tip.t,
      before_i: tip.i,
    });
  });
});
