/**
 * The CLI door: `npm run --silent cli -- <command> [flags] [--data-dir DIR] [--json]`.
 * Command words map to the contract's dotted names (`settings get` →
 * `settings.get`, or an alias such as `info`); flags come from the command's
 * input schema. Exit codes: 0 ok, 2 invalid input, 3 not found, 4 conflict,
 * 5 unavailable, 1 anything else.
 */
import { commands, isCommandName, type CommandName } from './api/contract.js';
import { dispatch } from './api/dispatch.js';
import { ApiError, type ApiErrorShape } from './errors.js';
import { coerceCliValue, objectFields } from './api/schema-fields.js';
import { kebab, readArgv, takeFlag, type ParsedArgv } from './cli/argv.js';
import { formatHuman } from './cli/format.js';
import { Engine } from './engine.js';
import { defaultDataDir } from './paths.js';
import { SECRET_FIELDS, passphraseFromEnv, secretFromEnv } from './cli/passphrase.js';
import { waitForTask } from './cli/wait-task.js';
import { writeCursorLines } from './cli/cursor-lines.js';
import { confirmRestore, type RestoreQuestion } from './cli/confirm-restore.js';

const EXIT: Partial<Record<ApiErrorShape['code'], number>> = {
  INVALID_INPUT: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  UNAVAILABLE: 5,
};

/**
 * Flags a command accepts on the command line and ignores: `query --count` with the --sort and
 * --projection of the find it counts (mongosh's cursor.count() ignores them too; neither changes
 * a count).
 */
const IGNORED_FLAGS: Partial<Record<CommandName, readonly string[]>> = {
  'query.count': ['sort', 'projection'],
};

/**
 * Maps command words to a contract command: the dotted name (`settings get`)
 * or an alias (`info`, `tasks`). When several match,
 * the command whose
 * input accepts every given flag wins; when none does, the one that knows the
 * most of them (then the one most of whose required flags are given: `query
 * --count` reads as query.count). `label` names the command in messages: as
 * typed, with the command it was read as when the words name several.
 */
function resolveCommand(
  words: string[],
  flagNames: string[],
): { name: CommandName; rest: string[]; label: string } | null {
  for (let n = Math.min(words.length, 3); n >= 1; n--) {
    const phrase = words.slice(0, n);
    const candidates: CommandName[] = [];
    const dotted = phrase.join('.');
    if (isCommandName(dotted)) candidates.push(dotted);
    for (const [name, def] of Object.entries(commands)) {
      const aliases = (def as { cliAliases?: readonly string[] }).cliAliases ?? [];
      if (aliases.includes(phrase.join(' '))) candidates.push(name as CommandName);
    }
    if (candidates.length === 0) continue;
    const score = (c: CommandName) => {
      const fields = objectFields(commands[c].input);
      const known = new Set(
        fields.flatMap((f) => [kebab(f.key), `${kebab(f.key)}-env`]).concat(IGNORED_FLAGS[c] ?? []),
      );
      const required = fields.filter((f) => f.required && flagNames.includes(kebab(f.key))).length;
      return { unknown: flagNames.filter((f) => !known.has(f)).length, required };
    };
    const scored = candidates.map((c) => ({ c, ...score(c) }));
    const best = scored.reduce((a, b) =>
      b.unknown < a.unknown || (b.unknown === a.unknown && b.required > a.required) ? b : a,
    );
    const name = (scored.find((x) => x.unknown === 0) ?? best).c;
    const label = candidates.length > 1 ? `${phrase.join(' ')} (${name})` : name;
    return { name, rest: words.slice(n), label };
  }
  return null;
}

function buildInput(
  name: CommandName,
  args: ParsedArgv,
  passphrase: string | undefined,
  label: string = name,
): Record<string, unknown> {
  for (const f of IGNORED_FLAGS[name] ?? []) args.flags.delete(f);
  const json = takeFlag(args, 'input-json');
  const input: Record<string, unknown> = json ? (JSON.parse(json) as Record<string, unknown>) : {};
  // --input-json is on the command line too, as visible to other users in the process list as a flag.
  const inJson = secretFieldIn(input);
  if (inJson) {
    throw new ApiError(
      'INVALID_INPUT',
      `--input-json must not carry the ${inJson}: give it through an environment variable: --${kebab(inJson)}-env VAR.`,
    );
  }
  for (const f of objectFields(commands[name].input)) {
    if (SECRET_FIELDS.has(f.key)) {
      if (args.flags.has(kebab(f.key))) {
        throw new ApiError(
          'INVALID_INPUT',
          `Give the ${f.key} through an environment variable: --${kebab(f.key)}-env VAR.`,
        );
      }
      // The passphrase comes from the global --passphrase-env; other secrets from --<field>-env.
      const value =
        f.key === 'passphrase'
          ? passphrase
          : secretFromEnv(takeFlag(args, `${kebab(f.key)}-env`), `${kebab(f.key)}-env`);
      if (value !== undefined) input[f.key] = value;
      continue;
    }
    const values = args.flags.get(kebab(f.key));
    if (!values) continue;
    args.flags.delete(kebab(f.key));
    input[f.key] =
      f.kind === 'array'
        ? values.flatMap((v) => v.split(',')).map((v) => coerceCliValue(f.itemKind ?? 'string', v))
        : coerceCliValue(f.kind, values[values.length - 1]!);
  }
  const unknown = [...args.flags.keys()];
  if (unknown.length) {
    const known = objectFields(commands[name].input).map((f) => `--${kebab(f.key)}`);
    throw new ApiError(
      'INVALID_INPUT',
      `Unknown flag(s) for ${label}: ${unknown.map((u) => `--${u}`).join(', ')}. ` +
        `Accepted: ${known.length ? known.join(', ') : '(none)'}` +
        `${(IGNORED_FLAGS[name] ?? []).map((f) => `, --${f} (ignored)`).join('')}.`,
    );
  }
  return input;
}

/** The first secret field name found at any depth of a JSON input, or null. */
function secretFieldIn(value: unknown): string | null {
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_FIELDS.has(k)) return k;
    const nested = secretFieldIn(v);
    if (nested) return nested;
  }
  return null;
}

function usage(): string {
  const lines = ['Usage: npm run --silent cli -- <command> [flags] [--data-dir DIR] [--json]', ''];
  for (const [name, def] of Object.entries(commands)) {
    const words = name.replace('.', ' ');
    const alias = (def as { cliAliases?: readonly string[] }).cliAliases?.[0];
    const flags = objectFields(def.input)
      .map((f) => (f.required ? `--${kebab(f.key)} <${f.kind}>` : `[--${kebab(f.key)}]`))
      .concat((def as { cliConfirm?: boolean }).cliConfirm ? ['[--yes]'] : [])
      .join(' ');
    lines.push(`  ${(alias ? `${alias} | ${words}` : words).padEnd(22)} ${flags}`);
    lines.push(`  ${''.padEnd(22)} ${def.summary}`);
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const args = readArgv(argv);
  const asJson = takeFlag(args, 'json') === 'true';
  const dataDirFlag = takeFlag(args, 'data-dir');
  takeFlag(args, 'wait'); // tasks started from the CLI are always waited for (the process owns them)
  const passphraseEnv = takeFlag(args, 'passphrase-env');
  const fail = (e: ApiErrorShape): number => {
    process.stderr.write(asJson ? `${JSON.stringify({ error: e })}\n` : `error [${e.code}]: ${e.message}\n`);
    return EXIT[e.code] ?? 1;
  };

  if (args.words.length === 0 || args.words[0] === 'help' || args.flags.has('help')) {
    process.stdout.write(`${usage()}\n`);
    return args.words.length === 0 && !args.flags.has('help') ? 2 : 0;
  }
  const resolved = resolveCommand(
    args.words,
    [...args.flags.keys()].filter((f) => f !== 'input-json' && f !== 'yes'),
  );
  if (!resolved) {
    return fail({ code: 'NOT_FOUND', message: `Unknown command "${args.words.join(' ')}". Run "cli help".` });
  }
  if (resolved.rest.length) {
    return fail({ code: 'INVALID_INPUT', message: `Unexpected argument(s): ${resolved.rest.join(' ')}` });
  }
  const confirms = (commands[resolved.name] as { cliConfirm?: boolean }).cliConfirm === true;
  // Only a command that asks takes --yes; elsewhere it is reported as an unknown flag.
  const yes = confirms && takeFlag(args, 'yes') === 'true';
  let input: Record<string, unknown>;
  let passphrase: string | undefined;
  try {
    passphrase = passphraseFromEnv(passphraseEnv);
    input = buildInput(resolved.name, args, passphrase, resolved.label);
  } catch (err) {
    return fail(
      err instanceof ApiError
        ? err.toJSON()
        : { code: 'INVALID_INPUT', message: `--input-json: ${String(err)}` },
    );
  }

  let engine: Engine;
  const open = (readOnly: boolean) =>
    Engine.open({
      dataDir: dataDirFlag ?? defaultDataDir(),
      mode: 'cli',
      // Read-only commands run beside a serve or desktop engine that holds the data dir; the others
      // need its writer lock (CONFLICT naming the holder).
      readOnly,
      ...(passphrase ? { passphrase } : {}),
    });
  try {
    const readOnly = (commands[resolved.name] as { readOnly?: boolean }).readOnly === true;
    try {
      engine = open(readOnly);
    } catch (err) {
      // A damaged catalog: only a writer may set it aside and rebuild it, so become one for this run.
      if (!readOnly || (err as ApiError).code !== 'CORRUPT') throw err;
      engine = open(false);
    }
  } catch (err) {
    return fail(err instanceof ApiError ? err.toJSON() : { code: 'UNAVAILABLE', message: String(err) });
  }
  try {
    if (confirms) {
      try {
        await confirmRestore(engine, input as unknown as RestoreQuestion, {
          yes,
          interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
        });
      } catch (err) {
        return fail(err instanceof ApiError ? err.toJSON() : { code: 'INTERNAL', message: String(err) });
      }
    }
    const res = await dispatch(engine, resolved.name, input);
    if (!res.ok) return fail(res.error);
    let result = res.result;
    if ((commands[resolved.name] as { task?: boolean }).task) {
      const taskId = (result as { taskId: string }).taskId;
      const task = await waitForTask(engine, taskId, !asJson && process.stderr.isTTY);
      if (task.state !== 'succeeded')
        return fail(task.error ?? { code: 'INTERNAL', message: 'Task failed.' });
      result = task.result ?? null;
    }
    const lines = (commands[resolved.name] as { cliLines?: string }).cliLines;
    if (lines && result !== null && typeof result === 'object' && 'cursorId' in result) {
      // A cursor's answer: its documents as lines, batch after batch, in --json and plain alike.
      const err = await writeCursorLines(engine, result as Record<string, unknown>, lines);
      return err ? fail(err) : 0;
    }
    if (asJson && lines) {
      // JSON lines: the items of one output field, one per line (documents are Extended JSON text already).
      const items = (result as Record<string, unknown[]>)[lines] ?? [];
      for (const item of items)
        process.stdout.write(`${typeof item === 'string' ? item : JSON.stringify(item)}\n`);
      return 0;
    }
    process.stdout.write(asJson ? `${JSON.stringify(result, null, 2)}\n` : `${formatHuman(result)}\n`);
    return 0;
  } finally {
    await engine.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error [INTERNAL]: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
