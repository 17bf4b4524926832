/**
 * Child process for the writer-lock test: opens a writing engine on a data dir, opens its
 * repository (taking both locks), prints "ready" and waits to be killed.
 * Usage: node --import tsx lock-holder.ts DATA_DIR
 */
import { Engine } from '../../engine/engine.js';

const engine = Engine.open({ dataDir: process.argv[2]!, mode: 'headless' });
await engine.stores.get();
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
