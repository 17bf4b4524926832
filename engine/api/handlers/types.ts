import type { CommandName, CommandOutput, CommandParsedInput } from '../contract.js';
import type { Engine } from '../../engine.js';

export type Handler<K extends CommandName> = (
  engine: Engine,
  input: CommandParsedInput<K>,
) => CommandOutput<K> | Promise<CommandOutput<K>>;

export type HandlerTable = { [K in CommandName]: Handler<K> };
export type PartialHandlers<K extends CommandName> = { [P in K]: Handler<P> };
