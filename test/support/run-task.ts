/** Starts a task command through dispatch (as every door does) and waits for it to end. */
import { dispatch } from '../../engine/api/dispatch.js';
import type { CommandInput } from '../../engine/api/contract.js';
import type { Task } from '../../engine/api/schemas.js';
import type { Engine } from '../../engine/engine.js';

type TaskCommand =
  | 'snapshot.take'
  | 'repo.verify'
  | 'catalog.rebuild'
  | 'copy.run'
  | 'restore.run'
  | 'restore.validate'
  | 'export.dump'
  | 'import.dump'
  | 'view.build'
  | 'query.export'
  | 'query.restore'
  | 'restore-test.run';

/** The finished task (succeeded, failed or cancelled); throws when the command itself is refused. */
export async function runTask<K extends TaskCommand>(
  engine: Engine,
  command: K,
  input: CommandInput<K> = {} as CommandInput<K>,
): Promise<Task> {
  const res = await dispatch(engine, command, input);
  if (!res.ok) throw new Error(`${command} refused: ${res.error.message}`);
  return engine.tasks.wait((res.result as { taskId: string }).taskId);
}
