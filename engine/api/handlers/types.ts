import type { CommandName, CommandOutput, CommandParsedInput } from '../contract.js';
import type { Services } from '../../services.js';

/**
 * Who sent a command: one WebSocket connection, the app window, a CLI run. State a command
 * leaves open for its caller (a query cursor) belongs to this client and ends with it.
 */
export interface CallContext {
  client: string;
}

/**
 * A command's implementation. `S` names the services it uses (a `Pick` of
 * Services); dispatch hands every handler the same Services, which fits any `Pick`.
 */
export type Handler<K extends CommandName, S = Services> = (
  svc: S,
  input: CommandParsedInput<K>,
  call: CallContext,
) => CommandOutput<K> | Promise<CommandOutput<K>>;

export type HandlerTable = { [K in CommandName]: Handler<K> };
export type PartialHandlers<K extends CommandName, S = Services> = { [P in K]: Handler<P, S> };
