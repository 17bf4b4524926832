import { Button, Group, Loader, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { EmptyState } from '../../ui/EmptyState';
import { ErrorText } from '../../ui/ErrorText';
import { Section } from '../../ui/Section';
import { ImportDump } from './ImportDump';
import { SourceCard } from './SourceCard';
import { SourceForm } from './SourceForm';
import { useSources } from './sources-store';

export function Sources() {
  const sources = useSources((s) => s.sources);
  const error = useSources((s) => s.error);
  // null: no form; 'new': adding; a name: editing that source.
  const [form, setForm] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const editing = sources?.find((s) => s.name === form);
  const done = (name: string) => {
    setNotice(form === 'new' ? `Added ${name}; its backup job is active.` : `Saved ${name}.`);
    setForm(null);
  };
  return (
    <Section title="Sources" lead="The MongoDB deployments this workstation protects.">
      <Group gap="sm">
        <Button onClick={() => setForm('new')} disabled={form !== null}>
          Add a source
        </Button>
        <Button variant="default" onClick={() => setImporting(true)} disabled={importing}>
          Import a dump…
        </Button>
        {notice && (
          <Text size="sm" role="status">
            {notice}
          </Text>
        )}
      </Group>
      <ErrorText message={error} />
      {importing && <ImportDump onClose={() => setImporting(false)} />}
      {form !== null && (
        <SourceForm key={form} existing={editing} onDone={done} onCancel={() => setForm(null)} />
      )}
      {sources === null && !error && (
        <Group gap="xs">
          <Loader size="sm" />
          <Text size="sm">Loading sources…</Text>
        </Group>
      )}
      {sources && sources.length > 0 && (
        <Stack component="ul" gap="md" className="source-list">
          {sources.map((s) => (
            <SourceCard key={s.id} source={s} onEdit={() => setForm(s.name)} />
          ))}
        </Stack>
      )}
      {sources?.length === 0 && form === null && (
        <EmptyState title="No sources yet">
          A source is one replica set, reached with a <code>mongodb://</code> or <code>mongodb+srv://</code>{' '}
          connection string. Each source gets a backup job: scheduled snapshots plus continuous oplog capture,
          so any second inside its window can be restored. Standalone servers can only have snapshots; sharded
          clusters are not supported yet.
        </EmptyState>
      )}
    </Section>
  );
}
