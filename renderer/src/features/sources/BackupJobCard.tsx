import { Alert, Badge, Button, Checkbox, Group, List, Paper, Stack, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import { useSettings } from '../settings/settings-store';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { utcClock } from '../../ui/format';
import { TaskProgress } from '../../ui/TaskProgress';
import { Time } from '../../ui/Time';
import { PolicyEditor } from './PolicyEditor';
import { TIERS, type Policy, type TierName } from './policy';
import { useSources, type BackupJob } from './sources-store';

const STATE_COLOR: Record<BackupJob['state'], string> = {
  active: 'teal',
  stopped: 'gray',
  inactive: 'gray',
  misconfigured: 'red',
};

function describe(tier: TierName, p: Policy, withLocal: boolean): string | null {
  const at = (hhmm: string) => utcClock(hhmm, withLocal);
  switch (tier) {
    case 'hourly':
      return p.hourly && `every ${p.hourly.everyHours} h, kept ${p.hourly.keepDays} days`;
    case 'daily':
      return p.daily && `at ${at(p.daily.at)}, kept ${p.daily.keepDays} days`;
    case 'weekly':
      return p.weekly && `${p.weekly.day} at ${at(p.weekly.at)}, kept ${p.weekly.keepWeeks} weeks`;
    case 'monthly':
      return p.monthly && `day ${p.monthly.day} at ${at(p.monthly.at)}, kept ${p.monthly.keepMonths} months`;
  }
}

/** A source's backup job: its state, schedule (UTC, next runs), and what can be done with it. */
export function BackupJobCard({ source }: { source: string }) {
  const job = useSources((s) => s.jobs[source]);
  const loadError = useSources((s) => s.jobErrors[source]);
  const snapshotTask = useSources((s) => s.snapshotTasks[source]);
  const { loadJob, stopJob, startJob, terminate, takeSnapshot } = useSources.getState();
  const showLocal = useSettings((s) => !!s.settings?.showLocalTime);
  const [message, setMessage] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [terminating, setTerminating] = useState(false);
  const [terminateError, setTerminateError] = useState<string | null>(null);
  const [deleteBackups, setDeleteBackups] = useState(false);

  useEffect(() => {
    void loadJob(source);
  }, [loadJob, source]);

  if (!job) return <Text c={loadError ? 'red' : 'dimmed'}>{loadError ?? 'Loading the backup job…'}</Text>;
  const policy = job.policy;
  const act = async (f: () => Promise<unknown>, done: string) => {
    try {
      await f();
      setMessage(done);
    } catch (e) {
      setMessage(errorMessage(e));
    }
  };
  const confirmTerminate = async () => {
    try {
      const r = await terminate(source, deleteBackups);
      setTerminating(false);
      setTerminateError(null);
      setMessage(
        `Terminated; deleted ${r.deletedSnapshots} snapshot(s) and ${r.deletedSegments} segment(s), kept ${r.keptLocked} locked.`,
      );
    } catch (e) {
      setTerminateError(errorMessage(e));
    }
  };
  return (
    <Paper withBorder p="sm" radius="md" data-testid={`job-${source}`}>
      <Stack gap="xs">
        <Group gap="xs">
          <Text fw={500}>Backup job</Text>
          <Badge
            className="state-badge"
            variant="light"
            color={STATE_COLOR[job.state]}
            data-testid="job-state"
          >
            {job.state}
          </Badge>
        </Group>
        {job.reason && (
          <Alert color="red" variant="light" py={6}>
            {job.reason}
          </Alert>
        )}
        <List size="sm" spacing={2}>
          {TIERS.map((t) => {
            const text = describe(t, policy, showLocal);
            const next = job.nextRuns[t];
            return text ? (
              <List.Item key={t}>
                {t}: {text}
                {next && (
                  <Text span c="dimmed" size="sm">
                    {' '}
                    · next <Time iso={next} age />
                  </Text>
                )}
              </List.Item>
            ) : null;
          })}
          <List.Item>
            point-in-time window: {policy.pitrWindowHours} h · recovery point objective{' '}
            {policy.rpoObjectiveSeconds} s
          </List.Item>
        </List>
        <Group gap="xs">
          <Button onClick={() => void act(() => takeSnapshot(source), 'Snapshot started.')}>
            Take a snapshot now
          </Button>
          {job.state === 'active' ? (
            <Button variant="default" onClick={() => void act(() => stopJob(source), 'Backup job stopped.')}>
              Stop backups
            </Button>
          ) : job.state === 'stopped' || job.state === 'misconfigured' ? (
            <Button variant="default" onClick={() => void act(() => startJob(source), 'Backup job started.')}>
              {job.state === 'stopped' ? 'Start backups' : 'Retry now'}
            </Button>
          ) : null}
          {job.state !== 'inactive' && (
            <Button variant="default" onClick={() => setEditing((v) => !v)} aria-expanded={editing}>
              Edit policy
            </Button>
          )}
          {job.state !== 'inactive' && (
            <Button variant="subtle" color="red" onClick={() => setTerminating(true)}>
              Terminate…
            </Button>
          )}
          {message && (
            <Text size="sm" role="status">
              {message}
            </Text>
          )}
        </Group>
        <TaskProgress taskId={snapshotTask} label="Snapshot" />
        <ConfirmDialog
          opened={terminating}
          title={`Terminate the backup job of ${source}`}
          confirm="Terminate the job"
          onConfirm={() => void confirmTerminate()}
          onClose={() => setTerminating(false)}
          error={terminateError}
        >
          <Text size="sm">
            Terminating makes the job Inactive: no new snapshots, no capture. Its backups stay unless you
            delete them here; anything under a retention lock is always kept.
          </Text>
          <Checkbox
            checked={deleteBackups}
            onChange={(e) => setDeleteBackups(e.currentTarget.checked)}
            label="Also delete its snapshots and oplog segments"
          />
        </ConfirmDialog>
        {editing && (
          <PolicyEditor
            job={job}
            onCancel={() => setEditing(false)}
            onSaved={() => {
              setEditing(false);
              setMessage('Policy saved.');
            }}
          />
        )}
      </Stack>
    </Paper>
  );
}
