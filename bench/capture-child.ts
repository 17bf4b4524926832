/** The engine side of the capture benchmark, in its own process so its CPU and memory are its own. */
import { Engine } from '../engine/engine.js';
import { getSourceByName } from '../engine/catalog/sources.js';

const [dataDir, segmentMaxMs, journalFsyncMs] = process.argv.slice(2) as [string, string, string];
const engine = Engine.open({
  dataDir,
  mode: 'headless',
  capture: { segmentMaxMs: Number(segmentMaxMs), journalFsyncMs: Number(journalFsyncMs), awaitMs: 100 },
});
const capture = await engine.capture.start(getSourceByName(engine.catalog, 'bench-rs'));
const cpu0 = process.cpuUsage();
const t0 = Date.now();
setInterval(() => {
  const m = capture.metrics;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({ at: Date.now(), capturedWall: m.capturedWall, segments: m.segmentsWritten, files: m.filesWritten, commits: m.journalCommits, fsyncIntervalMs: m.fsyncIntervalMs, lastFsyncMs: m.lastFsyncMs, eps: m.entriesPerSecond, bps: m.bytesPerSecond, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: Date.now() - t0, rss: process.memoryUsage.rss() })}\n`,
  );
}, 50);
process.on('SIGTERM', () => void engine.close().then(() => process.exit(0)));
