import { Badge, Button, Code, Group, Loader, Paper, Stack, Text, Title } from '@mantine/core';
import { Time } from '../../ui/Time';
import { useBrowse } from './browse-store';
import { EngineError } from './EngineError';

const OP_COLOR: Record<string, string> = {
  snapshot: 'gray',
  insert: 'green',
  update: 'blue',
  replace: 'blue',
  delete: 'red',
  'drop-collection': 'red',
  'drop-database': 'red',
  rename: 'orange',
};

/** Every version of the document picked in the results: when, what operation, what changed field by field. */
export function HistoryPanel() {
  const history = useBrowse((s) => s.history);
  const error = useBrowse((s) => s.historyError);
  const loading = useBrowse((s) => s.loadingHistory);
  const row = useBrowse((s) => s.historyRow);
  const close = useBrowse((s) => s.closeHistory);
  if (row === null) return null;

  return (
    <Paper withBorder p="sm" component="section" aria-label="Document history">
      <Group justify="space-between" mb="xs">
        <Title order={4} size="sm">
          History of {history ? <Code>{history.id}</Code> : 'the document'}
        </Title>
        <Button size="xs" variant="subtle" onClick={close}>
          Close
        </Button>
      </Group>
      {loading && <Loader size="xs" aria-label="Loading history" />}
      <EngineError error={error} />
      {history && (
        <Stack gap="xs">
          <Text size="xs" c="dimmed">
            {history.versions.length} versions · {history.segmentsRead} of {history.segmentsInWindow} segments
            read
          </Text>
          {history.versions.map((v) => (
            <div key={`${v.ts.text}-${v.op}`} data-testid="history-version">
              <Group gap="xs">
                <Badge color={OP_COLOR[v.op] ?? 'gray'} variant="light">
                  {v.op}
                </Badge>
                <Text size="sm">
                  <Time iso={v.ts.wall} />
                </Text>
                <Code>{v.ts.text}</Code>
                {v.ns !== history.ns && <Text size="xs">in {v.ns}</Text>}
                {v.inTransaction && (
                  <Badge size="xs" variant="outline">
                    transaction
                  </Badge>
                )}
              </Group>
              {v.change.length > 0 && (
                <Code block mt={4}>
                  {v.change.join('\n')}
                </Code>
              )}
              <Text size="xs" c="dimmed">
                restore point just before: {v.restoreBefore.text}
              </Text>
            </div>
          ))}
        </Stack>
      )}
    </Paper>
  );
}
