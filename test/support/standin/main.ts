/** `npm run standin -- [--port N] [--repl-set rs0] [--oplog-max-entries N]`: the stand-in as a process, for manual use. */
import { readArgv, takeFlag } from '../../../engine/cli/argv.js';
import { startStandin } from './server.js';

const args = readArgv(process.argv.slice(2));
const port = Number(takeFlag(args, 'port') ?? 27017);
const s = await startStandin({
  port,
  replSetName: takeFlag(args, 'repl-set') ?? 'rs0',
  oplogMaxEntries: Number(takeFlag(args, 'oplog-max-entries') ?? 1_000_000),
});
process.stdout.write(`MongoDB stand-in (test infrastructure) listening: ${s.uri}\n`);
const stop = () => void s.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
