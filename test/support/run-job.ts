/** Starts a job command through dispatch (as every door does) and waits for it to end. */
import { dispatch } from '../../engine/api/dispatch.js';
import type { CommandInput } from '../../engine/api/contract.js';
import type { Job } from '../../engine/api/schemas.js';
import type { Engine } from '../../engine/engine.js';

type JobCommand = 'snapshot.take' | 'repo.verify' | 'catalog.rebuild' | 'copy.run';

/** The finished job (succeeded, failed or cancelled); throws when the command itself is refused. */
export async function runJob<K extends JobCommand>(
  engine: Engine,
  command: K,
  input: CommandInput<K> = {} as CommandInput<K>,
): Promise<Job> {
  const res = await dispatch(engine, command, input);
  if (!res.ok) throw new Error(`${command} refused: ${res.error.message}`);
  return engine.jobs.wait((res.result as { jobId: string }).jobId);
}
