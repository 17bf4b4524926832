/** Human-readable CLI output: `key: value` lines for objects, one block per array item. */
export function formatHuman(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return `${indent}(none)`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`;
    return value.map((v) => formatHuman(v, indent)).join(`\n${indent}--\n`);
  }
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) =>
        v !== null && typeof v === 'object'
          ? `${indent}${k}:\n${formatHuman(v, `${indent}  `)}`
          : `${indent}${k}: ${String(v)}`,
      )
      .join('\n');
  }
  return `${indent}${String(value)}`;
}
