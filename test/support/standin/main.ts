/**
 * `npm run standin -- [--port N] [--repl-set rs0] [--oplog-max-entries N] [--topology standalone]`: the
 * stand-in as a process, for manual use and for tests that need a server process (a script standing in
 * for a mongod binary runs it).
 */
import { readArgv, takeFlag } from '../../../engine/cli/argv.js';
import { startStandin } from './server.js';

const args = readArgv(process.argv.slice(2));
const port = Number(takeFlag(args, 'port') ?? 27017);
const s = await startStandin({
  port,
  replSetName: takeFlag(args, 'repl-set') ?? 'rs0',
  oplogMaxEntries: Number(takeFlag(args, 'oplog-max-entries') ?? 1_000_000),
  ...(takeFlag(args, 'topology') === 'standalone' ? { topology: 'standalone' as const } : {}),
});
process.stdout.write(`MongoDB stand-in (test infrastructure) listening: ${s.uri}\n`);
const stop = () => void s.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
