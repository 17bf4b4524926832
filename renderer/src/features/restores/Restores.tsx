import { Button, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import { useNavigation, type PointHandoff } from '../../app/navigation';
import { EmptyState } from '../../ui/EmptyState';
import { ErrorText } from '../../ui/ErrorText';
import { Section } from '../../ui/Section';
import { RestoreHistory } from './RestoreHistory';
import { RestoreReport } from './RestoreReport';
import { RestoreWizard } from './RestoreWizard';
import { useRestores } from './restores-store';

export function Restores() {
  const history = useRestores((s) => s.history);
  const historyError = useRestores((s) => s.historyError);
  const [selected, setSelected] = useState<string | null>(null);
  const report = useRestores((s) => (selected ? s.restores[selected] : undefined));
  const [reportError, setReportError] = useState<string | null>(null);
  // null: no wizard; otherwise open, with the point handed from another section if there was one
  // (the timeline or the incident finder; "export" opens it as a dump). The hand-off is taken once, on
  // arrival: the section is mounted when it is shown, and a hand-off always switches to it.
  const [wizard, setWizard] = useState<{ key: number; handoff: PointHandoff | null } | null>(() => {
    const h = useNavigation.getState().takeHandoff(['restore', 'export']);
    return h ? { key: 0, handoff: h } : null;
  });

  useEffect(() => {
    void useRestores.getState().loadHistory();
  }, []);

  const open = async (id: string) => {
    setSelected(id);
    setReportError(null);
    try {
      await useRestores.getState().loadRestore(id);
    } catch (err) {
      setReportError(errorMessage(err));
    }
  };
  return (
    <Section title="Restores" lead="Restores you started, restore tests and their measured recovery times.">
      <Group gap="sm">
        <Button onClick={() => setWizard({ key: Date.now(), handoff: null })} disabled={wizard !== null}>
          New restore…
        </Button>
      </Group>
      {wizard && (
        <RestoreWizard
          key={wizard.key}
          handoff={wizard.handoff}
          onClose={() => {
            setWizard(null);
            void useRestores.getState().loadHistory();
          }}
        />
      )}
      <ErrorText message={historyError} />
      {history === null && !historyError && (
        <Group gap="xs">
          <Loader size="sm" />
          <Text size="sm">Loading the restore history…</Text>
        </Group>
      )}
      {history && history.length > 0 && (
        <Stack gap="sm">
          <Title order={3} size="h4">
            History
          </Title>
          <RestoreHistory history={history} selected={selected} onSelect={(id) => void open(id)} />
        </Stack>
      )}
      {history?.length === 0 && !wizard && (
        <EmptyState title="No restores yet">
          A restore brings a source back to a snapshot, a wall-clock second or an exact oplog timestamp: to a
          new target (recommended), in place (confirmed, with the source&apos;s backup paused around it), as a
          download for <code>mongorestore</code>, or queried offline without restoring at all. Start one with{' '}
          <strong>New restore…</strong>, or pick a point on the timeline.
        </EmptyState>
      )}
      <ErrorText message={reportError} />
      {selected && report && (
        <Stack gap="sm" data-testid="history-report">
          <Group justify="space-between">
            <Title order={3} size="h4">
              Report
            </Title>
            <Button size="xs" variant="subtle" onClick={() => setSelected(null)}>
              Close the report
            </Button>
          </Group>
          <RestoreReport restore={report} />
        </Stack>
      )}
    </Section>
  );
}
