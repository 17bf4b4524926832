import { Alert, Badge, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import { downloadText } from '../../ui/download';
import { ErrorText } from '../../ui/ErrorText';
import { duration } from '../../ui/format';
import { Time } from '../../ui/Time';
import { KIND_LABEL, outcome, reportParts } from './restore-report';
import { useRestores, type RestoreView } from './restores-store';

/** A phase's time: milliseconds below a second (small restores), seconds with one decimal above. */
const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/**
 * Step 6 and the history's report view: the validation checklist (pass or
 * fail, with findings), the recovery time per phase, what was restored, the
 * failures, and the report as JSON or HTML to save.
 */
export function RestoreReport({ restore }: { restore: RestoreView }) {
  const parts = reportParts(restore);
  const result = outcome(restore);
  const reportFile = useRestores((s) => s.reportFile);
  const [error, setError] = useState<string | null>(null);
  const save = async (format: 'json' | 'html') => {
    setError(null);
    try {
      const file = await reportFile(restore.id, format);
      await downloadText(file.fileName, file.mediaType, file.content);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const rto = parts.phases.reduce((s, p) => s + p.ms, 0);
  const v = parts.validation;
  return (
    <Stack gap="md" data-testid="restore-report" data-outcome={result.label}>
      <Alert
        color={result.color}
        variant="light"
        title={v ? (v.passed ? 'Validation passed' : 'Validation failed') : `Restore ${result.label}`}
      >
        <Text size="sm">
          {restore.source} at <span className="mono">{restore.point}</span>,{' '}
          {KIND_LABEL[restore.kind] ?? restore.kind}
          {restore.target && (
            <>
              {' '}
              into <span className="mono">{restore.target}</span>
            </>
          )}
          ; started <Time iso={restore.startedAt} />
          {restore.actor && ` by ${restore.actor}`}.
        </Text>
        {parts.phases.length > 0 && (
          <Text size="sm" fw={600}>
            Recovery time (RTO): {seconds(rto)}
          </Text>
        )}
        {restore.error && (
          <Text size="sm" c="red">
            {restore.error.message}
          </Text>
        )}
        {restore.markerLeft && (
          <Text size="sm" c="red">
            The target keeps the __mbm_restore_incomplete marker: this restore did not finish.
          </Text>
        )}
        {parts.newSnapshot && (
          <Text size="sm">
            A new snapshot was taken after it: <span className="mono">{parts.newSnapshot}</span>.
          </Text>
        )}
      </Alert>

      {v && (
        <div>
          <Title order={3} size="h5" mb={4}>
            Validation checklist
          </Title>
          <Text size="xs" c="dimmed" mb={4}>
            {v.namespaces} namespace(s), {v.documentsCompared.toLocaleString('en-US')} document(s) compared
            byte for byte.
          </Text>
          <Table aria-label="Validation checklist">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Result</Table.Th>
                <Table.Th>Check</Table.Th>
                <Table.Th>Findings</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {v.checks.map((c) => (
                <Table.Tr key={c.name} data-testid={`check-${c.name}`} data-passed={c.passed}>
                  <Table.Td>
                    <Badge color={c.passed ? 'teal' : 'red'}>{c.passed ? 'pass' : 'fail'}</Badge>
                  </Table.Td>
                  <Table.Td>{c.title}</Table.Td>
                  <Table.Td>
                    {c.findings.length === 0
                      ? '—'
                      : c.findings.map((f) => (
                          <Text key={f} size="sm">
                            {f}
                          </Text>
                        ))}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </div>
      )}

      {parts.phases.length > 0 && (
        <div>
          <Title order={3} size="h5" mb={4}>
            Recovery time per phase
          </Title>
          <Table aria-label="Recovery time per phase" maw={520}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Phase</Table.Th>
                <Table.Th>Time</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {parts.phases.map((p) => (
                <Table.Tr key={p.name}>
                  <Table.Td>{p.name}</Table.Td>
                  <Table.Td>{seconds(p.ms)}</Table.Td>
                </Table.Tr>
              ))}
              <Table.Tr>
                <Table.Th>Total</Table.Th>
                <Table.Th>{seconds(rto)}</Table.Th>
              </Table.Tr>
            </Table.Tbody>
          </Table>
        </div>
      )}

      {parts.namespaces.length > 0 && (
        <div>
          <Title order={3} size="h5" mb={4}>
            Namespaces restored
          </Title>
          <Table aria-label="Namespaces restored">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>From</Table.Th>
                <Table.Th>To</Table.Th>
                <Table.Th>Documents</Table.Th>
                <Table.Th>Failures</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {parts.namespaces.map((n) => (
                <Table.Tr key={n.source}>
                  <Table.Td className="mono">{n.source}</Table.Td>
                  <Table.Td className="mono">{n.target}</Table.Td>
                  <Table.Td>{n.documents.toLocaleString('en-US')}</Table.Td>
                  <Table.Td c={n.failures ? 'red' : undefined}>{n.failures}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {parts.oplog && (
            <Text size="sm" mt={4}>
              Oplog: {parts.oplog.entries.toLocaleString('en-US')} entries replayed as{' '}
              {parts.oplog.operations.toLocaleString('en-US')} operations
              {parts.oplog.failures ? `, ${parts.oplog.failures} failed` : ''}.
            </Text>
          )}
        </div>
      )}

      {parts.failures.count > 0 && (
        <Alert color="yellow" variant="light" title={`${parts.failures.count} per-document failure(s)`}>
          {parts.failures.examples.map((e, k) => (
            <Text key={k} size="sm">
              <span className="mono">{e.ns}</span> {e.op}: {e.message}
            </Text>
          ))}
        </Alert>
      )}

      <Group gap="xs">
        <Button variant="default" onClick={() => void save('json')}>
          Export JSON
        </Button>
        <Button variant="default" onClick={() => void save('html')} disabled={!v}>
          Export HTML
        </Button>
        {parts.durationMs !== null && (
          <Text size="xs" c="dimmed">
            Engine time {duration(parts.durationMs / 1000)}
          </Text>
        )}
      </Group>
      <ErrorText message={error} />
    </Stack>
  );
}
