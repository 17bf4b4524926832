import { Badge, Group, Loader, NavLink, Paper, Text, Title } from '@mantine/core';
import { count } from '../../ui/format';
import { useBrowse } from './browse-store';
import { EngineError } from './EngineError';

/** The databases and collections at the point, each with its document count; a click opens the namespace. */
export function CollectionTree() {
  const collections = useBrowse((s) => s.collections);
  const loading = useBrowse((s) => s.loadingCollections);
  const error = useBrowse((s) => s.collectionsError);
  const ns = useBrowse((s) => s.ns);
  const openNamespace = useBrowse((s) => s.openNamespace);

  return (
    <Paper withBorder p="xs" miw={220} component="nav" aria-label="Databases and collections">
      <Title order={4} size="sm" mb="xs">
        Databases
      </Title>
      {loading && <Loader size="xs" aria-label="Loading collections" />}
      <EngineError error={error} />
      {collections && collections.databases.length === 0 && (
        <Text size="sm" c="dimmed">
          No databases at this point.
        </Text>
      )}
      {collections?.databases.map((db) => {
        const total = db.collections.reduce((n, c) => n + (c.count ?? 0), 0);
        return (
          <NavLink
            key={db.name}
            label={db.name}
            description={`${count(total)} documents`}
            defaultOpened
            childrenOffset="sm"
          >
            {db.collections.map((c) => {
              const full = `${db.name}.${c.name}`;
              return (
                <NavLink
                  key={c.name}
                  active={ns === full}
                  onClick={() => openNamespace(full)}
                  aria-label={full}
                  label={
                    <Group gap={6} wrap="nowrap">
                      <span>{c.name}</span>
                      {c.type !== 'collection' && (
                        <Badge size="xs" variant="light">
                          {c.type}
                        </Badge>
                      )}
                    </Group>
                  }
                  rightSection={
                    <Text size="xs" c="dimmed" data-testid={`count-${full}`}>
                      {c.count === null ? '—' : count(c.count)}
                    </Text>
                  }
                />
              );
            })}
          </NavLink>
        );
      })}
    </Paper>
  );
}
