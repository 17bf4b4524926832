/**
 * Every string and list a command accepts has a maximum (a runaway script
 * or a hostile page cannot hand the engine megabytes): for each field, an
 * over-long value is refused with INVALID_INPUT naming that field.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commandNames, commands } from '../../engine/api/contract.js';
import { dispatch } from '../../engine/api/dispatch.js';
import { objectFields } from '../../engine/api/schema-fields.js';
import { Engine } from '../../engine/engine.js';
import { tempDir } from '../support/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
let engine: Engine;
beforeEach(() => {
  dir = tempDir();
  engine = Engine.open({ dataDir: dir.path, mode: 'cli' });
});
afterEach(async () => {
  await engine.close();
  dir.remove();
});

/** Longer than any bound in the contract, in a shape each field's own rules accept (letters, dots). */
const LONG = `db.${'x'.repeat(20_000)}`;
const MANY = 20_000;

/** Commands whose input is an object schema, possibly refined (retention.lock). */
function inputObject(name: (typeof commandNames)[number]): z.ZodType {
  let s = commands[name].input as z.ZodType;
  while (s instanceof z.ZodPipe) s = s.in as z.ZodType;
  return s;
}

const cases = commandNames.flatMap((name) =>
  objectFields(inputObject(name))
    .filter((f) => f.kind === 'string' || (f.kind === 'array' && f.itemKind === 'string'))
    .map((f) => ({ name, field: f.key, kind: f.kind })),
);

describe('input bounds', () => {
  it('covers the string and list fields of the contract', () => {
    expect(cases.length).toBeGreaterThan(30);
    expect(cases).toContainEqual({ name: 'source.add', field: 'uri', kind: 'string' });
    expect(cases).toContainEqual({ name: 'snapshot.take', field: 'namespaces', kind: 'array' });
    expect(cases).toContainEqual({ name: 'query.more', field: 'cursorId', kind: 'string' });
    expect(cases).toContainEqual({ name: 'query.close', field: 'cursorId', kind: 'string' });
  });

  it.each(cases)('$name refuses an over-long $field with INVALID_INPUT', async ({ name, field, kind }) => {
    const value = kind === 'string' ? LONG : Array.from({ length: MANY }, (_, k) => `db.c${k}`);
    const res = await dispatch(engine, name, { [field]: value });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.code).toBe('INVALID_INPUT');
    const issues = (res.error.details as { issues: { path: string; message: string }[] }).issues;
    expect(issues.find((i) => i.path === field)?.message, JSON.stringify(issues)).toMatch(/too big/i);
  });

  it('refuses an over-long item inside a list', async () => {
    const res = await dispatch(engine, 'snapshot.take', { source: 'rs', namespaces: [LONG] });
    expect(res).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(JSON.stringify(res)).toMatch(/namespaces\.0/);
  });
});
