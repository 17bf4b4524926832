import { Checkbox, Group, Stack, Text } from '@mantine/core';
import { bytes } from '../../ui/format';
import type { SnapshotNamespaces } from './restores-store';

type Ns = SnapshotNamespaces['namespaces'][number];

/**
 * The snapshot's namespaces as a tree, database then collection, each with
 * its document count and size from the manifest. Everything starts chosen;
 * a database's box chooses or leaves out all of its collections.
 */
export function NamespaceTree({
  namespaces,
  unchecked,
  onChange,
}: {
  namespaces: Ns[];
  unchecked: string[];
  onChange: (unchecked: string[]) => void;
}) {
  const off = new Set(unchecked);
  const dbs = [...new Set(namespaces.map((n) => n.db))].sort();
  const toggle = (names: string[], on: boolean) => {
    const next = new Set(off);
    for (const ns of names) {
      if (on) next.delete(ns);
      else next.add(ns);
    }
    onChange([...next].sort());
  };
  if (namespaces.length === 0)
    return (
      <Text size="sm" c="dimmed">
        This snapshot holds no namespaces.
      </Text>
    );
  return (
    <Stack gap={6} role="group" aria-label="Namespaces" data-testid="namespace-tree">
      {dbs.map((db) => {
        const colls = namespaces.filter((n) => n.db === db).sort((a, b) => a.name.localeCompare(b.name));
        const onCount = colls.filter((c) => !off.has(c.ns)).length;
        const docs = colls.reduce((s, c) => s + c.documents, 0);
        const size = colls.reduce((s, c) => s + c.bytes, 0);
        return (
          <div key={db}>
            <Checkbox
              label={
                <Group gap="xs">
                  <Text size="sm" fw={600} className="mono">
                    {db}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {colls.length} namespace(s) · {docs.toLocaleString('en-US')} documents · {bytes(size)}
                  </Text>
                </Group>
              }
              aria-label={`Database ${db}`}
              checked={onCount === colls.length}
              indeterminate={onCount > 0 && onCount < colls.length}
              onChange={(e) =>
                toggle(
                  colls.map((c) => c.ns),
                  e.currentTarget.checked,
                )
              }
            />
            <Stack gap={4} pl="xl" mt={4}>
              {colls.map((c) => (
                <Checkbox
                  key={c.ns}
                  aria-label={c.ns}
                  label={
                    <Group gap="xs">
                      <Text size="sm" className="mono">
                        {c.name}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {c.type !== 'collection' ? `${c.type} · ` : ''}
                        {c.documents.toLocaleString('en-US')} documents · {bytes(c.bytes)} · {c.indexes}{' '}
                        index(es)
                      </Text>
                    </Group>
                  }
                  checked={!off.has(c.ns)}
                  onChange={(e) => toggle([c.ns], e.currentTarget.checked)}
                />
              ))}
            </Stack>
          </div>
        );
      })}
    </Stack>
  );
}
