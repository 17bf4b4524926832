/**
 * The CLI's question before `restore` writes into a deployment: the plain
 * statement the wizard's review step shows (which snapshot, how many oplog
 * entries, which target, what is dropped), then "Proceed? [y/N]". `--yes`
 * answers it for scripts; without a terminal to ask on, and without `--yes`,
 * nothing is written: a cron job that forgot `--yes` must not drop a
 * target's collections unasked. (The in-place restore has its own, stronger
 * confirmation: the source's name typed again.)
 */
import { createInterface } from 'node:readline/promises';
import { dispatch } from '../api/dispatch.js';
import type { CommandOutput } from '../api/contract.js';
import type { Engine } from '../engine.js';
import { ApiError } from '../errors.js';
import { displayUri, parseConnection } from '../mongo/connection-config.js';

export interface RestoreQuestion {
  source: string;
  at: string;
  targetUri?: string;
  localMongod?: boolean;
  include?: string[];
  exclude?: string[];
  rename?: string[];
  drop?: boolean;
  usersRoles?: boolean;
}

/** The statement of what the restore will do, line by line. */
export async function describeRestore(engine: Engine, input: RestoreQuestion): Promise<string[]> {
  const lines: string[] = [];
  const res = await dispatch(engine, 'restore.plan', { source: input.source, at: input.at });
  if (res.ok) {
    const plan = res.result as CommandOutput<'restore.plan'>;
    if (plan.restorable)
      lines.push(
        `Restore source "${input.source}" at ${input.at}: snapshot ${plan.snapshot.id}, then at most ` +
          `${plan.entriesToReplayAtMost} oplog entries replayed up to ${plan.replayThrough.t}:${plan.replayThrough.i}.`,
      );
    // A point that cannot be restored is refused by the restore itself, with its reason: nothing to ask.
    else return [];
  }
  let target = 'the throwaway local mongod';
  if (input.targetUri) {
    try {
      target = displayUri(parseConnection(input.targetUri).config);
    } catch {
      target = '(an invalid connection string)';
    }
  }
  lines.push(`Into: ${target}.`);
  if (input.include?.length) lines.push(`Only: ${input.include.join(', ')}.`);
  if (input.exclude?.length) lines.push(`Leaving out: ${input.exclude.join(', ')}.`);
  for (const r of input.rename ?? []) lines.push(`Renamed on the way: ${r.replace('=', ' becomes ')}.`);
  if (input.usersRoles) lines.push("With the snapshot's users and roles of the restored databases.");
  lines.push(
    input.drop
      ? 'DESTRUCTIVE: target collections that already exist are DROPPED before they are restored.'
      : 'Target collections that exist and hold data make the restore stop before writing (no --drop).',
  );
  return lines;
}

/**
 * Resolves when the user said yes (or gave --yes); otherwise throws, before
 * anything is written: INVALID_INPUT without a terminal, CANCELLED on "no".
 */
export async function confirmRestore(
  engine: Engine,
  input: RestoreQuestion,
  opts: { yes: boolean; interactive: boolean },
): Promise<void> {
  if (opts.yes) return;
  const lines = await describeRestore(engine, input);
  if (!lines.length) return;
  if (!opts.interactive)
    throw new ApiError(
      'INVALID_INPUT',
      `${lines.join(' ')} No terminal to ask on: pass --yes to restore without the question.`,
    );
  process.stderr.write(`${lines.join('\n')}\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question('Proceed? [y/N] ')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes')
      throw new ApiError('CANCELLED', 'Restore not started: the answer was not yes.');
  } finally {
    rl.close();
  }
}
