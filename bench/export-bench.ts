/**
 * Export benchmark: MB/s writing a snapshot plus its oplog entries as a
 * mongodump directory and as a gzip archive, beside `gzip -1` compressing
 * the same bytes (the uncompressed archive) on the same machine, which is
 * the practical limit for the gzip form. Defaults are small enough to run
 * in well under a minute on a shared machine; `--size 1024 --entries
 * 1000000` is the full run the issue asks for.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serialize } from 'bson';
import { Engine } from '../engine/engine.js';
import { exportDump } from '../engine/dump/export-dump.js';
import { NO_CONTEXT } from '../engine/dump/progress.js';
import { Repository } from '../engine/repo/repository.js';
import { OplogFactory } from '../test/support/oplog-factory.js';
import { tempDir } from '../test/support/temp-dir.js';

export interface ExportBenchOptions {
  sizeMB: number;
  entries: number;
  log: (m: string) => void;
}

const MB = 1024 * 1024;
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

function gzipCliSeconds(file: string): number | null {
  try {
    execFileSync('gzip', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  execFileSync('gzip', ['-1', '-c', file], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache
  const t0 = performance.now();
  execFileSync('gzip', ['-1', '-c', file], { stdio: ['ignore', 'ignore', 'ignore'] });
  return (performance.now() - t0) / 1000;
}

export async function runExportBench(o: ExportBenchOptions) {
  const dir = tempDir('mbm-export-bench-');
  const engine = Engine.open({ dataDir: join(dir.path, 'data'), mode: 'cli' });
  try {
    const store = await engine.stores.attach(await Repository.init(join(dir.path, 'repo')));
    const sourceId = await store.ensureSource('bench');
    const factory = new OplogFactory({ start: { t: 1_763_805_600, i: 1 }, perSecond: 5000, docBytes: 1000 });

    o.log(`export: writing ${o.entries} oplog entries…`);
    let prev = null;
    let firstTs = null;
    for (let done = 0; done < o.entries;) {
      const n = Math.min(20_000, o.entries - done);
      const batch = factory.mixed(n);
      const { info } = await store.appendSegment(sourceId, batch, prev);
      firstTs ??= info.firstTs;
      prev = info.lastTs;
      done += n;
    }

    o.log(`export: writing a ${o.sizeMB} MB snapshot…`);
    const w = store.beginSnapshot({ sourceId, startTs: firstTs!, serverVersion: '8.0.4' });
    const c = await w.collection({
      db: 'shop',
      name: 'orders',
      type: 'collection',
      uuid: null,
      options: {},
      indexes: [{ v: { $numberInt: '2' }, key: { _id: { $numberInt: '1' } }, name: '_id_' }],
    });
    const pad = 'order customer shipped pending invoice warehouse refund priority '.repeat(14);
    let bytes = 0;
    for (let k = 0; bytes < o.sizeMB * MB; k++) {
      const d = serialize({
        _id: k,
        qty: k % 97,
        status: k % 3 ? 'shipped' : 'pending',
        note: pad.slice(k % 50),
      });
      await c.write(d);
      bytes += d.length;
    }
    w.add(await c.close());
    await store.commitSnapshot(w, { consistentTs: firstTs! });

    const timed = async (label: string, input: Parameters<typeof exportDump>[2]) => {
      o.log(`export: ${label}…`);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r = await exportDump(store, sourceId, input, NO_CONTEXT);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      // CPU seconds beside wall seconds: on a shared machine the wall clock includes waiting (fsync, others).
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      return {
        seconds: round(seconds, 2),
        cpuSeconds: round(cpuSeconds, 2),
        mbPerCpuSecond: round(r.bytes / MB / cpuSeconds),
        rawMB: round(r.bytes / MB),
        mbPerSecond: round(r.bytes / MB / seconds),
        entries: r.oplogEntries,
      };
    };
    const directory = await timed('directory', { at: 'latest', out: join(dir.path, 'dump') });
    const archive = await timed('archive', { at: 'latest', archive: join(dir.path, 'plain.archive') });
    const gzipArchive = await timed('gzip archive', {
      at: 'latest',
      archive: join(dir.path, 'x.archive.gz'),
      gzip: true,
    });
    const plain = join(dir.path, 'plain.archive');
    const gz = gzipCliSeconds(plain);
    const size = statSync(plain).size;
    return {
      sizeMB: o.sizeMB,
      entries: o.entries,
      directory,
      archive,
      gzipArchive: { ...gzipArchive, storedMB: round(statSync(join(dir.path, 'x.archive.gz')).size / MB) },
      gzipCli: gz === null ? null : { seconds: round(gz, 2), mbPerSecond: round(size / MB / gz) },
      gzipArchiveVsGzipCli: gz === null ? null : round(gzipArchive.mbPerSecond / (size / MB / gz), 2),
    };
  } finally {
    await engine.close();
    dir.remove();
  }
}
