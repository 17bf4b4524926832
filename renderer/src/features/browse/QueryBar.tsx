import { Button, Group, Textarea, TextInput } from '@mantine/core';
import { useState } from 'react';
import { checkLimit, checkObject } from './query-text';
import type { QueryShape } from './browse-store';

const FIELDS = [
  { key: 'filter', label: 'Filter', placeholder: '{"status": "A"}' },
  { key: 'projection', label: 'Projection', placeholder: '{"name": 1}' },
  { key: 'sort', label: 'Sort', placeholder: '{"_id": 1}' },
  // Empty: the collection's own collation, as in mongod.
  { key: 'collation', label: 'Collation', placeholder: '{"locale": "en", "strength": 2}' },
] as const;
type Field = (typeof FIELDS)[number]['key'];
/** The engine's largest limit (query.find). */
const MAX_LIMIT = 1_000_000_000;

/**
 * filter, projection, sort, collation (JSON objects) and limit (empty: all); each field says what
 * is wrong with it as it is typed, and Find stays off until all are valid,
 * so only well-formed text reaches the engine.
 */
export function QueryBar({ busy, onRun }: { busy: boolean; onRun: (q: QueryShape) => void }) {
  const [text, setText] = useState<Record<Field, string>>({
    filter: '',
    projection: '',
    sort: '',
    collation: '',
  });
  const [limit, setLimit] = useState('');
  const checked = {
    filter: checkObject('Filter', text.filter),
    projection: checkObject('Projection', text.projection),
    sort: checkObject('Sort', text.sort),
    collation: checkObject('Collation', text.collation),
  };
  // Empty: every match, read a batch at a time as the table scrolls.
  const lim = limit.trim() === '' ? ({ ok: true, value: undefined } as const) : checkLimit(limit, MAX_LIMIT);
  const valid =
    checked.filter.ok && checked.projection.ok && checked.sort.ok && checked.collation.ok && lim.ok;

  function run() {
    const { filter, projection, sort, collation } = checked;
    if (!valid || !filter.ok || !projection.ok || !sort.ok || !collation.ok || !lim.ok) return;
    onRun({
      filter: filter.value,
      projection: projection.value,
      sort: sort.value,
      collation: collation.value,
      ...(lim.value !== undefined ? { limit: lim.value } : {}),
    });
  }

  return (
    <form
      aria-label="Query"
      onSubmit={(e) => {
        e.preventDefault();
        run();
      }}
    >
      <Group align="flex-start" gap="xs" wrap="wrap">
        {FIELDS.map((f) => {
          const c = checked[f.key];
          return (
            <Textarea
              key={f.key}
              label={f.label}
              placeholder={f.placeholder}
              rows={2}
              miw={200}
              style={{ flex: 1 }}
              value={text[f.key]}
              onChange={(e) => {
                const value = e.currentTarget.value;
                setText((t) => ({ ...t, [f.key]: value }));
              }}
              error={c.ok ? undefined : c.error}
              ff="monospace"
            />
          );
        })}
        <TextInput
          label="Limit"
          w={90}
          placeholder="all"
          value={limit}
          onChange={(e) => setLimit(e.currentTarget.value)}
          error={lim.ok ? undefined : lim.error}
        />
        <Button type="submit" mt={25} disabled={!valid || busy} loading={busy}>
          Find
        </Button>
      </Group>
    </form>
  );
}
