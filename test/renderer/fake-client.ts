/**
 * The renderer's side of the API (ApiClient) without an engine: commands are
 * answered by the test (or refused with a typed error), events and
 * connection changes are sent by the test. Every call is recorded so a test
 * can check what the screen asked for.
 */
import type { ApiClient, ConnectionState } from '../../engine/api/client';
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  EventName,
  EventPayload,
} from '../../engine/api/contract';
import { ClientError } from '../../renderer/src/app/client/client-error';

/** A fixed answer, a refusal, or a function of the input (answers that depend on what was asked). */
type Answer<K extends CommandName> =
  CommandOutput<K> | Error | ((input: CommandInput<K>) => Promise<CommandOutput<K>>);

export interface FakeClient extends ApiClient {
  calls: { name: CommandName; input: unknown }[];
  answer<K extends CommandName>(name: K, answer: Answer<K>): void;
  emit<K extends EventName>(event: K, payload: EventPayload<K>): void;
  setConnection(state: ConnectionState): void;
}

export function fakeClient(): FakeClient {
  const answers = new Map<CommandName, Answer<CommandName>>();
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const stateListeners = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  const calls: FakeClient['calls'] = [];
  return {
    calls,
    answer(name, answer) {
      answers.set(name, answer as Answer<CommandName>);
    },
    emit(event, payload) {
      for (const l of listeners.get(event) ?? []) l(payload);
    },
    setConnection(s) {
      state = s;
      for (const l of stateListeners) l(s);
    },
    async invoke(name, input) {
      calls.push({ name, input });
      const a = answers.get(name);
      if (a === undefined) throw new ClientError({ code: 'NOT_ANSWERED', message: `${name} has no answer` });
      if (a instanceof Error) throw a;
      return (typeof a === 'function' ? await (a as (i: unknown) => Promise<unknown>)(input) : a) as never;
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (p: unknown) => void);
      return () => set.delete(listener as (p: unknown) => void);
    },
    onConnectionChange(listener) {
      stateListeners.add(listener);
      listener(state);
      return () => stateListeners.delete(listener);
    },
  };
}
