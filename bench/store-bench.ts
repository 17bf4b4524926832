/** Repository and catalog benchmarks: segment ingest, restore planning at scale, catalog rebuild. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { recomputeCoverage } from '../engine/catalog/coverage.js';
import { planRestore } from '../engine/restore/planner.js';
import { buildTimeline } from '../engine/timeline/timeline.js';
import { Engine } from '../engine/engine.js';
import { FileKind, encodeEnvelope } from '../engine/repo/envelope.js';
import { readEntryTs } from '../engine/repo/bson-entries.js';
import { encodeSegmentInWorker } from '../engine/repo/seal-pool.js';
import { Repository } from '../engine/repo/repository.js';
import { rebuildFromRepository } from '../engine/store/reconcile.js';
import { OplogFactory } from '../test/support/oplog-factory.js';
import { tempDir } from '../test/support/temp-dir.js';
import { createHash } from 'node:crypto';

export interface StoreBenchOptions {
  ingestMB: number;
  planSegments: number;
  planSnapshots: number;
  rebuildSegments: number;
  /** Run only this part (ingest, planning or rebuild); all of them when null. */
  only?: string | null;
  log: (m: string) => void;
}

const SEGMENT_TARGET_BYTES = 16 * 1024 * 1024; // capture's default segment size
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Ingest rounds: each variant and the zstd command are measured once per round, best kept. */
const ROUNDS = 3;
const KDF = { N: 1 << 14, r: 8, p: 1 };

function zstdCliAvailable(): boolean {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One run of the zstd command over the file, output thrown away. */
function zstdCliSeconds(file: string, level: number): number {
  const t0 = performance.now();
  execFileSync('zstd', [`-${level}`, '-T1', '-q', '-f', '-c', file], {
    stdio: ['ignore', 'ignore', 'ignore'],
    maxBuffer: 1 << 30,
  });
  return (performance.now() - t0) / 1000;
}

async function ingestBench(o: StoreBenchOptions, dir: string) {
  o.log(`ingest: generating ${o.ingestMB} MB of oplog entries…`);
  const factory = new OplogFactory({ start: { t: 1_763_805_600, i: 1 }, perSecond: 5000, docBytes: 1000 });
  const batches: Uint8Array[][] = [];
  let total = 0;
  let entries = 0;
  while (total < o.ingestMB * 1024 * 1024) {
    const batch: Uint8Array[] = [];
    let bytes = 0;
    while (bytes < SEGMENT_TARGET_BYTES) {
      const e = factory.mixed(1)[0]!;
      batch.push(e);
      bytes += e.length;
    }
    batches.push(batch);
    total += bytes;
    entries += batch.length;
  }
  const rawFile = join(dir, 'raw-oplog.bson');
  writeFileSync(rawFile, Buffer.concat(batches.flat()));

  // Warm-up (JIT, zstd context, page cache) so the first measured variant is not penalised.
  {
    const engine = Engine.open({ dataDir: join(dir, 'data-warm'), mode: 'cli' });
    const store = await engine.stores.attach(await Repository.init(join(dir, 'repo-warm')));
    const sid = await store.ensureSource('warm');
    await store.appendSegments(sid, batches.slice(0, 3), null, { encode: encodeSegmentInWorker });
    await engine.incidents.catchUp(sid);
    await engine.close();
  }
  const VARIANTS = [
    ['zstd-3', undefined, true],
    ['zstd-3+aes-256-gcm', 'benchmark passphrase', true],
    // The same without the incident finder's scan of each new segment (its own worker thread).
    ['zstd-3+aes-256-gcm, no incident scan', 'benchmark passphrase', false],
  ] as const;
  type Run = { seconds: number; settled: number; cpuSeconds: number; stored: number };
  const runs = new Map<string, Run[]>(VARIANTS.map(([label]) => [label, []]));
  const cliRuns: number[] = [];
  const haveCli = zstdCliAvailable();
  if (haveCli) zstdCliSeconds(rawFile, 3); // warms the page cache
  // Rounds, each variant once and then the zstd command once, so that all of them meet the same
  // moments of a shared machine; best of the rounds for each, as for the command.
  for (let k = 0; k < ROUNDS; k++) {
    for (const [label, passphrase, scanIncidents] of VARIANTS) {
      const name = `${label.replace(/\W+/g, '-')}-${k}`;
      const engine = Engine.open({ dataDir: join(dir, `data-${name}`), mode: 'cli', kdfCost: KDF });
      if (!scanIncidents) engine.stores.onSegmentAppended = null;
      const repo = await Repository.init(
        join(dir, `repo-${name}`),
        passphrase ? { passphrase, kdfCost: KDF } : {},
      );
      const store = await engine.stores.attach(repo);
      const sourceId = await store.ensureSource('bench-rs');
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      // As capture seals a backlog: compression and encryption in the seal worker, SHA-256 on this
      // thread meanwhile, each segment encoded while the one before it is written and recorded.
      const written = await store.appendSegments(sourceId, batches, store.chainTip(sourceId), {
        encode: encodeSegmentInWorker,
      });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      // Until the last segment's findings are stored (the scan runs beside, in its own worker).
      await engine.incidents.catchUp(sourceId);
      const settled = (performance.now() - t0) / 1000;
      runs.get(label)!.push({
        seconds,
        settled,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        stored: written.reduce((n, w) => n + w.info.storedBytes, 0),
      });
      await engine.close();
      o.log(`ingest ${label}: ${round(total / 1e6 / seconds)} MB/s`);
    }
    if (haveCli) cliRuns.push(zstdCliSeconds(rawFile, 3));
  }
  const variants: Record<string, unknown> = {};
  for (const [label, , scanIncidents] of VARIANTS) {
    const r = runs.get(label)!;
    const best = r.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    variants[label] = {
      seconds: round(best.seconds, 2),
      ...(scanIncidents ? { findingsStoredAfterSeconds: round(best.settled, 2) } : {}),
      MBps: round(total / 1e6 / best.seconds),
      MBpsEachRound: r.map((x) => round(total / 1e6 / x.seconds)),
      // Every thread of this process (seal and scan workers included) during that run's ingest.
      cpuSeconds: round(best.cpuSeconds, 2),
      entriesPerSecond: Math.round(entries / best.seconds),
      compressionRatio: round(total / best.stored, 2),
    };
  }
  const cliMBps = haveCli ? round(total / 1e6 / Math.min(...cliRuns)) : null;
  const ratio = (k: string) => (cliMBps ? round((variants[k] as { MBps: number }).MBps / cliMBps, 2) : null);
  return {
    rawMB: round(total / 1e6),
    entries,
    avgEntryBytes: Math.round(total / entries),
    segmentTargetMB: SEGMENT_TARGET_BYTES / (1024 * 1024),
    pipeline:
      'parse ts + order check, zstd level 3 in 1 MiB frames and AES-256-GCM (when encrypted) in the seal worker thread while SHA-256 runs on the calling thread, temp file + fsync + rename + dir fsync, catalog transaction; the next segments encoded while one is written; the incident scan in its own worker thread',
    ours: variants,
    zstdCli:
      cliMBps === null
        ? 'zstd command not found'
        : {
            command: `zstd -3 -T1 -c FILE > /dev/null (best of ${ROUNDS}, once per round, page cache warm)`,
            MBps: cliMBps,
            MBpsEachRound: cliRuns.map((x) => round(total / 1e6 / x)),
          },
    ratioToZstdCli: {
      plain: ratio('zstd-3'),
      encrypted: ratio('zstd-3+aes-256-gcm'),
      encryptedWithoutIncidentScan: ratio('zstd-3+aes-256-gcm, no incident scan'),
      target: 0.8, // the capture journal issue's target for the encrypted ingest
    },
  };
}

async function planningBench(o: StoreBenchOptions, dir: string) {
  o.log(`planning: filling a catalog with ${o.planSegments} segments and ${o.planSnapshots} snapshots…`);
  const engine = Engine.open({ dataDir: join(dir, 'data-plan'), mode: 'cli' });
  const db = engine.catalog;
  const repo = await Repository.init(join(dir, 'repo-plan'));
  const store = await engine.stores.attach(repo);
  const sourceId = await store.ensureSource('plan-rs');
  const T0 = 1_700_000_000;
  const SEG_SECONDS = 10;
  const GAP_EVERY = Math.floor(o.planSegments / 10); // ten roll-overs in the window
  const fill = performance.now();
  const insSeg = db.prepare(
    `INSERT INTO oplog_segments (source_id, path, status, first_t, first_i, last_t, last_i, prev_t, prev_i, entry_count, raw_bytes, stored_bytes, payload_sha256, created_at)
     VALUES (?, ?, 'ok', ?, 1, ?, 500, ?, ?, 5000, 5000000, 1000000, '', '')`,
  );
  db.transaction(() => {
    for (let k = 0; k < o.planSegments; k++) {
      const first = T0 + k * SEG_SECONDS;
      const chained = k > 0 && k % GAP_EVERY !== 0;
      insSeg.run(
        sourceId,
        `seg/${k}`,
        first,
        first + SEG_SECONDS - 1,
        chained ? first - 1 : null,
        chained ? 500 : null,
      );
    }
  })();
  const insSnap = db.prepare(
    `INSERT INTO snapshots (id, source_id, path, status, start_t, start_i, consistent_t, consistent_i, completed_at) VALUES (?, ?, ?, 'complete', ?, 3, ?, 7, '')`,
  );
  const span = o.planSegments * SEG_SECONDS;
  db.transaction(() => {
    for (let k = 0; k < o.planSnapshots; k++) {
      const start = T0 + Math.floor((k * span) / o.planSnapshots) + 5;
      insSnap.run(`snap-${k}`, sourceId, `snap/${k}`, start, start + 120);
    }
  })();
  const cov = recomputeCoverage(db, sourceId);
  const fillSeconds = (performance.now() - fill) / 1000;
  o.log(`planning: ${cov.length} intervals; planning random points…`);

  const times: number[] = [];
  const outcomes: Record<string, number> = {};
  let segmentsPerPlan = 0;
  for (let k = 0; k < 5000; k++) {
    const t = T0 + Math.floor(Math.random() * (span + 2000)) - 1000;
    const point =
      k % 2
        ? ({ kind: 'ts', ts: { t, i: 1 + (k % 500) } } as const)
        : ({ kind: 'wall', seconds: t } as const);
    const t0 = performance.now();
    const plan = planRestore(db, sourceId, point);
    times.push(performance.now() - t0);
    const key = plan.ok ? 'restorable' : plan.reason;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (plan.ok) segmentsPerPlan += plan.segments.length;
  }
  times.sort((a, b) => a - b);

  // The timeline at several zoom levels (a year down to a minute), 1,600 buckets wide: it must not
  // grow with the number of segments (it reads coverage intervals and the snapshot index only).
  const zooms = { year: 366 * 86_400, month: 31 * 86_400, day: 86_400, hour: 3_600, minute: 60 };
  const timelineMs: Record<string, { p50: number; p99: number }> = {};
  for (const [zoom, seconds] of Object.entries(zooms)) {
    const tl: number[] = [];
    for (let k = 0; k < 200; k++) {
      const from = T0 + Math.floor(Math.random() * Math.max(1, span - seconds));
      const t0 = performance.now();
      buildTimeline(db, sourceId, {
        fromT: from,
        toT: from + seconds,
        width: 1600,
        now: new Date(),
        pitrWindowHours: 72,
        maxMarkers: 2000,
      });
      tl.push(performance.now() - t0);
    }
    tl.sort((a, b) => a - b);
    timelineMs[zoom] = { p50: round(pct(tl, 50), 3), p99: round(pct(tl, 99), 3) };
  }
  await engine.close();
  return {
    timeline: { width: 1600, ms: timelineMs },
    segments: o.planSegments,
    snapshots: o.planSnapshots,
    intervals: cov.length,
    catalogFillSeconds: round(fillSeconds, 1),
    plans: times.length,
    outcomes,
    avgSegmentsPerRestorablePlan: round(segmentsPerPlan / Math.max(1, outcomes.restorable ?? 1), 1),
    ms: { p50: round(pct(times, 50), 3), p99: round(pct(times, 99), 3), max: round(times.at(-1)!, 3) },
    targetP99ms: 5,
  };
}

async function rebuildBench(o: StoreBenchOptions, dir: string) {
  o.log(`rebuild: writing ${o.rebuildSegments} small segment files…`);
  const repo = await Repository.init(join(dir, 'repo-rebuild'));
  const engine = Engine.open({ dataDir: join(dir, 'data-rebuild'), mode: 'cli' });
  const store = await engine.stores.attach(repo);
  const sourceId = await store.ensureSource('rebuild-rs');
  const factory = new OplogFactory({ start: { t: 1_700_000_000, i: 1 }, perSecond: 2, docBytes: 100 });
  let prev: { t: number; i: number } | null = null;
  // Setup writes files directly (no fsync per file) to keep the benchmark short; rebuild reads them as usual.
  const madeDirs = new Set<string>();
  for (let k = 0; k < o.rebuildSegments; k++) {
    const entries = [factory.insert(), factory.update()];
    const payload = Buffer.concat(entries);
    const f = readEntryTs(entries[0]!);
    const l = readEntryTs(entries[1]!);
    const header = {
      type: 'oplog-segment',
      formatVersion: 1,
      sourceId,
      firstTs: f,
      lastTs: l,
      count: 2,
      rawBytes: payload.length,
      prevLastTs: prev,
      payloadSha256: createHash('sha256').update(payload).digest('hex'),
      createdAt: new Date().toISOString(),
    };
    const rel = repo.segmentRelPath(sourceId, f, l);
    const abs = repo.abs(rel);
    const d = abs.slice(0, abs.lastIndexOf('/'));
    if (!madeDirs.has(d)) {
      mkdirSync(d, { recursive: true });
      madeDirs.add(d);
    }
    writeFileSync(
      abs,
      Buffer.concat(
        encodeEnvelope(FileKind.OplogSegment, header, payload, {
          compression: repo.config.compression,
          key: null,
        }),
      ),
    );
    prev = l;
  }
  o.log('rebuild: rebuilding the catalog from the repository…');
  const t0 = performance.now();
  const [report] = await rebuildFromRepository(engine.catalog, [repo], { removeTemporaries: true });
  const seconds = (performance.now() - t0) / 1000;
  const intervals = engine.catalog.prepare('SELECT count(*) FROM coverage_intervals').pluck().get();
  await engine.close();
  return {
    segments: o.rebuildSegments,
    registered: report!.segmentsRegistered,
    intervals,
    seconds: round(seconds, 2),
    segmentsPerSecond: Math.round(o.rebuildSegments / seconds),
  };
}

export async function runStoreBench(o: StoreBenchOptions) {
  const dir = tempDir('mbm-bench-');
  try {
    const part = (name: string) => !o.only || o.only === name;
    return {
      ...(part('ingest') ? { ingest: await ingestBench(o, dir.path) } : {}),
      ...(part('planning') ? { planning: await planningBench(o, dir.path) } : {}),
      ...(part('rebuild') ? { rebuild: await rebuildBench(o, dir.path) } : {}),
    };
  } finally {
    dir.remove();
  }
}
