/**
 * Renders docs/api.md from the contract, so the API reference cannot drift:
 * `npm run docs:api` writes it and a unit test fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { commands, events } from '../engine/api/contract.js';
import { ERROR_CODES } from '../engine/errors.js';
import { objectFields } from '../engine/api/schema-fields.js';
import { kebab } from '../engine/cli/argv.js';

const jsonSchema = (s: z.ZodType): string =>
  JSON.stringify(z.toJSONSchema(s, { io: 'output', unrepresentable: 'any' }), null, 2);

export function renderApiDocs(): string {
  const out: string[] = [
    '# Engine API',
    '',
    '<!-- Generated from engine/api/contract.ts by `npm run docs:api`. Do not edit by hand. -->',
    '',
    'Every command is reachable three ways: Electron IPC (`window.backup.invoke(name, input)`),',
    'the headless WebSocket (`{id, command, input}` on `/api`), and the CLI',
    '(`npm run --silent cli -- <words> [--flags] [--json]`, words are the name with the dot replaced',
    'by a space, or the alias). Results are `{ok: true, result}` or `{ok: false, error: {code, message, details?}}`.',
    '',
    `Error codes: ${ERROR_CODES.map((c) => `\`${c}\``).join(', ')}.`,
    '',
    'A failing disk (full, read-only, I/O errors, met by the file system or by SQLite) is `UNAVAILABLE` with',
    "`details.reason` `'filesystem'` and `details.errno` (`ENOSPC`, `EROFS`, `EIO`…), never `INTERNAL`.",
    '',
    'CLI exit codes: 0 success, 2 `INVALID_INPUT`, 3 `NOT_FOUND`, 4 `CONFLICT`, 5 `UNAVAILABLE`, 1 otherwise.',
    '',
    '## Commands',
    '',
  ];
  for (const [name, def] of Object.entries(commands)) {
    const d = def as typeof def & { cliAliases?: readonly string[]; job?: boolean };
    out.push(`### \`${name}\``, '', d.summary, '');
    const words = [name.replace('.', ' '), ...(d.cliAliases ?? [])].map((w) => `\`${w}\``).join(' or ');
    out.push(`CLI: ${words}${d.job ? ' (starts a job; returns `{taskId}`)' : ''}`, '');
    const fields = objectFields(d.input);
    if (fields.length) {
      out.push('| field | CLI flag | type | required | description |', '|---|---|---|---|---|');
      for (const f of fields) {
        const type = f.values ? f.values.map((v) => `\`${v}\``).join(' \\| ') : f.kind;
        out.push(
          `| \`${f.key}\` | \`--${kebab(f.key)}\` | ${type} | ${f.required ? 'yes' : 'no'} | ${f.description ?? ''} |`,
        );
      }
      out.push('');
    } else {
      out.push('Input: none (`{}`).', '');
    }
    out.push(
      '<details><summary>Output schema</summary>',
      '',
      '```json',
      jsonSchema(d.output),
      '```',
      '',
      '</details>',
      '',
    );
  }
  out.push('## Events', '', 'Pushed to every window (IPC) and WebSocket client as `{event, payload}`.', '');
  for (const [name, def] of Object.entries(events)) {
    out.push(`### \`${name}\``, '', def.summary, '', '```json', jsonSchema(def.payload), '```', '');
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(new URL('../docs/api.md', import.meta.url), renderApiDocs());
}
