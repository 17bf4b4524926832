/** Helpers for the point-in-time view tests: typed dispatch, a view's whole contents as comparable text. */
import { dispatch } from '../../engine/api/dispatch.js';
import type { CommandInput, CommandName, CommandOutput } from '../../engine/api/contract.js';
import { keyRows, type ViewDb } from '../../engine/catalog/view-store.js';
import type { Engine } from '../../engine/engine.js';
import { viewToOfflineState } from '../../engine/views/view-state.js';
import { rawState } from './workload.js';

/** A command's result, or a thrown error carrying its code. */
export async function call<K extends CommandName>(
  engine: Engine,
  name: K,
  input: CommandInput<K>,
): Promise<CommandOutput<K>> {
  const r = await dispatch(engine, name, input);
  if (!r.ok) throw Object.assign(new Error(`${name}: ${r.error.message}`), r.error);
  return r.result as CommandOutput<K>;
}

/** A command's error (code and message); fails when the command succeeded. */
export async function refusal<K extends CommandName>(engine: Engine, name: K, input: unknown) {
  const r = await dispatch(engine, name, input);
  if (r.ok) throw new Error(`${name} succeeded where a refusal was expected`);
  return r.error;
}

/** Documents, options and indexes of every namespace of `db`, and every key row, as text. */
export function viewContents(view: ViewDb, db: string) {
  const state = rawState(viewToOfflineState(view), db);
  const keys = keyRows(view)
    .filter((k) => k.ns.startsWith(`${db}.`))
    .map((k) => `${k.ns} ${k.field} ${k.key.toString('hex')} ${k.id.toString('hex')}`);
  return { ...state, keys };
}

/** Every namespace's documents as sorted hex: raw BSON, types and field order included. */
export const stateHex = (state: Map<string, { docs: Map<string, Uint8Array> }>) =>
  Object.fromEntries(
    [...state].map(([ns, c]) => [ns, [...c.docs.values()].map((d) => Buffer.from(d).toString('hex')).sort()]),
  );
