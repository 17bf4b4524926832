import { Badge, Button, Table, VisuallyHidden } from '@mantine/core';
import { duration } from '../../ui/format';
import { Time } from '../../ui/Time';
import { KIND_LABEL, outcome, restoreSeconds } from './restore-report';
import type { RestoreView } from './restores-store';

/** The restore history from the catalog, newest first: one row per restore, its report one click away. */
export function RestoreHistory({
  history,
  selected,
  onSelect,
}: {
  history: RestoreView[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  return (
    <Table aria-label="Restore history">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Outcome</Table.Th>
          <Table.Th>Kind</Table.Th>
          <Table.Th>Source</Table.Th>
          <Table.Th>Point</Table.Th>
          <Table.Th>Target</Table.Th>
          <Table.Th>Started</Table.Th>
          <Table.Th>Duration</Table.Th>
          <Table.Th>
            <VisuallyHidden>Report</VisuallyHidden>
          </Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {history.map((r) => {
          const o = outcome(r);
          return (
            <Table.Tr key={r.id} data-testid={`restore-row-${r.id}`} aria-selected={r.id === selected}>
              <Table.Td>
                <Badge color={o.color} variant="light" className="state-badge">
                  {o.label}
                </Badge>
              </Table.Td>
              <Table.Td>{KIND_LABEL[r.kind] ?? r.kind}</Table.Td>
              <Table.Td>{r.source}</Table.Td>
              <Table.Td className="mono">{r.point}</Table.Td>
              <Table.Td className="mono">{r.target ?? '—'}</Table.Td>
              <Table.Td>
                <Time iso={r.startedAt} />
              </Table.Td>
              <Table.Td>{r.state === 'running' ? 'running' : duration(restoreSeconds(r))}</Table.Td>
              <Table.Td>
                <Button
                  size="xs"
                  variant="subtle"
                  onClick={() => onSelect(r.id)}
                  aria-label={`Report of ${r.source} at ${r.point}`}
                >
                  Report
                </Button>
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
