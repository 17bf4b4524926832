/**
 * Reads the fields of a command's input schema (names, types, whether
 * required, description). The CLI derives its flags from this and the API
 * docs list them, so neither declares the arguments a second time.
 */
import { z } from 'zod';

export type FieldKind = 'string' | 'number' | 'boolean' | 'enum' | 'array' | 'other';

export interface FieldInfo {
  key: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  values?: string[];
  itemKind?: FieldKind;
}

function unwrap(schema: z.ZodType): { inner: z.ZodType; optional: boolean } {
  let s = schema;
  let optional = false;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) {
      if (!(s instanceof z.ZodNullable)) optional = true;
      s = s.unwrap() as z.ZodType;
    } else return { inner: s, optional };
  }
}

function kindOf(s: z.ZodType): FieldKind {
  if (s instanceof z.ZodString) return 'string';
  if (s instanceof z.ZodNumber) return 'number';
  if (s instanceof z.ZodBoolean) return 'boolean';
  if (s instanceof z.ZodEnum) return 'enum';
  if (s instanceof z.ZodArray) return 'array';
  return 'other';
}

export function objectFields(schema: z.ZodType): FieldInfo[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]) => {
    const { inner, optional } = unwrap(field);
    const info: FieldInfo = { key, kind: kindOf(inner), required: !optional };
    const description = field.description ?? inner.description;
    if (description) info.description = description;
    if (inner instanceof z.ZodEnum) info.values = inner.options.map(String);
    if (inner instanceof z.ZodArray) info.itemKind = kindOf(unwrap(inner.element as z.ZodType).inner);
    return info;
  });
}

/** Turns one CLI string into the field's type; leaves validation to the schema. */
export function coerceCliValue(kind: FieldKind, raw: string): unknown {
  switch (kind) {
    case 'number': {
      const n = Number(raw);
      return raw.trim() === '' || Number.isNaN(n) ? raw : n;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'other':
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}
