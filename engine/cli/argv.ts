/**
 * A small argv reader shared by `cli` and `serve`. node:util parseArgs is
 * not enough here: CLI flags are derived from each command's zod schema at
 * run time, and booleans must accept both `--wait` and `--close-to-tray false`.
 */
export interface ParsedArgv {
  words: string[];
  flags: Map<string, string[]>;
}

export function readArgv(argv: readonly string[]): ParsedArgv {
  const words: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') continue;
    if (!tok.startsWith('--')) {
      words.push(tok);
      continue;
    }
    const eq = tok.indexOf('=');
    const name = eq > 0 ? tok.slice(2, eq) : tok.slice(2);
    let value: string;
    if (eq > 0) value = tok.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
    else value = 'true';
    const list = flags.get(name) ?? [];
    list.push(value);
    flags.set(name, list);
  }
  return { words, flags };
}

/** Takes a flag out of the set (so unknown leftovers can be reported). */
export function takeFlag(p: ParsedArgv, name: string): string | undefined {
  const v = p.flags.get(name);
  p.flags.delete(name);
  return v?.[v.length - 1];
}

export const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
