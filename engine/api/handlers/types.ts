import type { CommandName, CommandOutput, CommandParsedInput } from '../contract.js';
import type { Services } from '../../services.js';

/**
 * A command's implementation. `S` names the services it uses (a `Pick` of
 * Services); dispatch hands every handler the same Services, which fits any `Pick`.
 */
export type Handler<K extends CommandName, S = Services> = (
  svc: S,
  input: CommandParsedInput<K>,
) => CommandOutput<K> | Promise<CommandOutput<K>>;

export type HandlerTable = { [K in CommandName]: Handler<K> };
export type PartialHandlers<K extends CommandName, S = Services> = { [P in K]: Handler<P, S> };
