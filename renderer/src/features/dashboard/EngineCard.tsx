import { Card, Code, Table, Title } from '@mantine/core';
import { useConnection } from '../../app/connection-store';
import { Time } from '../../ui/Time';

/** Which engine this window talks to. */
export function EngineCard() {
  const info = useConnection((s) => s.info);
  if (!info) return null;
  return (
    <Card withBorder component="section" aria-label="Engine" maw={640}>
      <Title order={3} size="h5" mb="xs">
        Engine
      </Title>
      <Table variant="vertical" withRowBorders={false} verticalSpacing={4}>
        <Table.Tbody>
          <Table.Tr>
            <Table.Th w={160}>Version</Table.Th>
            <Table.Td data-testid="engine-version">{info.version}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Mode</Table.Th>
            <Table.Td>{info.mode}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Data directory</Table.Th>
            <Table.Td>
              <Code>{info.dataDir}</Code>
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Catalog schema</Table.Th>
            <Table.Td>{info.catalogSchemaVersion}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th>Engine started</Table.Th>
            <Table.Td>
              <Time iso={info.engineStartedAt} age />
            </Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
    </Card>
  );
}
