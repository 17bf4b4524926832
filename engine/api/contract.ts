/**
 * The API contract: every command and every event the engine offers, with
 * its input and output schemas, declared once. Electron IPC, the headless
 * WebSocket server, the CLI, the renderer's types and docs/api.md are all
 * derived from this table; adding a command here (and its handler in
 * handlers/) makes it reachable through all three doors.
 */
import { z } from 'zod';
import {
  AppInfo,
  Job,
  JobProgress,
  JobRef,
  JobState,
  ErrorShape,
  Settings,
  SettingsChange,
} from './schemas.js';

interface CommandDef<I extends z.ZodType, O extends z.ZodType> {
  summary: string;
  input: I;
  output: O;
  /** Words the CLI accepts for this command besides the dotted name (e.g. `info`). */
  cliAliases?: readonly string[];
  /** Starts a job: the output is `{jobId}` and the work reports through job events. */
  job?: boolean;
}

const command = <I extends z.ZodType, O extends z.ZodType>(def: CommandDef<I, O>) => def;

const NoInput = z.strictObject({});

export const commands = {
  'app.info': command({
    summary: 'Version, data directory, catalog schema version and engine uptime.',
    input: NoInput,
    output: AppInfo,
    cliAliases: ['info'],
  }),
  'settings.get': command({
    summary: 'All user settings, with defaults filled in.',
    input: NoInput,
    output: Settings,
  }),
  'settings.set': command({
    summary: 'Change some settings; returns all settings after the change.',
    input: SettingsChange,
    output: Settings,
  }),
  'job.list': command({
    summary: 'Jobs of this engine run, newest first.',
    input: z.strictObject({ state: JobState.optional() }),
    output: z.array(Job),
  }),
  'job.get': command({
    summary: 'One job by id.',
    input: JobRef,
    output: Job,
  }),
  'job.cancel': command({
    summary: 'Ask a running job to stop; it finishes with state "cancelled".',
    input: JobRef,
    output: Job,
  }),
} as const;

export const events = {
  'job.progress': {
    summary: 'A running job advanced.',
    payload: z.strictObject({ jobId: z.string(), kind: z.string(), progress: JobProgress }),
  },
  'job.finished': {
    summary: 'A job ended: succeeded, failed or cancelled.',
    payload: z.strictObject({
      jobId: z.string(),
      kind: z.string(),
      state: JobState,
      error: ErrorShape.nullable(),
    }),
  },
  'settings.changed': {
    summary: 'Settings were changed through any door.',
    payload: Settings,
  },
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
/** What a caller sends (defaults may be omitted). */
export type CommandInput<K extends CommandName> = z.input<Commands[K]['input']>;
/** What a handler receives after validation (defaults filled in). */
export type CommandParsedInput<K extends CommandName> = z.output<Commands[K]['input']>;
export type CommandOutput<K extends CommandName> = z.output<Commands[K]['output']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<K extends EventName> = z.output<Events[K]['payload']>;
/** One event; without a type argument, the union of all events (narrowed by `event`). */
export type EngineEvent<K extends EventName = EventName> = {
  [P in K]: { event: P; payload: EventPayload<P> };
}[K];

export const commandNames = Object.keys(commands) as CommandName[];
export const eventNames = Object.keys(events) as EventName[];

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(commands, name);
}
