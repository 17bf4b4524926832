/**
 * Child process for the capture crash test: opens the engine on a data dir,
 * captures one source until killed. Usage: node --import tsx capture-worker.ts DATA_DIR SOURCE
 */
import { Engine } from '../../engine/engine.js';
import { getSourceByName } from '../../engine/catalog/sources.js';

const [dataDir, source] = process.argv.slice(2) as [string, string];
const engine = Engine.open({
  dataDir,
  mode: 'headless',
  capture: { segmentMaxMs: 100, awaitMs: 50, backoffMinMs: 50, backoffMaxMs: 200 },
});
const capture = await engine.capture.start(getSourceByName(engine.catalog, source));
setInterval(() => {
  if (capture.metrics.state === 'capturing')
    process.stdout.write(`capturing ${capture.metrics.segmentsWritten}\n`);
}, 50);
