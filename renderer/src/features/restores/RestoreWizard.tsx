import { Button, Card, Group, Stepper, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useEffect, useMemo, useRef, useState } from 'react';
import { errorMessage } from '../../app/connection-store';
import type { PointHandoff } from '../../app/navigation';
import { ErrorText } from '../../ui/ErrorText';
import { localDateTime } from '../../ui/format';
import { useSettings } from '../settings/settings-store';
import { useSources } from '../sources/sources-store';
import { KindStep, kindUnavailable } from './KindStep';
import { OptionsStep, type ManifestState } from './OptionsStep';
import type { PlanState } from './PlanSummary';
import { PointStep } from './PointStep';
import { ProgressStep } from './ProgressStep';
import { reviewStatement } from './review-statement';
import { ReviewStep } from './ReviewStep';
import { WizardOutcome } from './WizardOutcome';
import { useRestores, type RestoreStart, type SnapshotView } from './restores-store';
import {
  chosenPoint,
  confirmed,
  initialValues,
  OPTIME,
  plannablePoint,
  restoreRequest,
  type WizardValues,
} from './wizard-values';
import { useTask } from '../../app/tasks-store';

const PLAN_DELAY_MS = 250;

/** The namespaces to leave out so that only `ns` (`db.coll`, or `db.*`) is chosen; null when it names none of them. */
export function focusedOut(namespaces: { ns: string; db: string }[], ns: string): string[] | null {
  const matches = (n: { ns: string; db: string }) =>
    n.ns === ns || (ns.endsWith('.*') && n.db === ns.slice(0, -2));
  if (!namespaces.some(matches)) return null;
  return namespaces.filter((n) => !matches(n)).map((n) => n.ns);
}

/** The form's starting values for a point handed from another section (timeline, incident finder). */
function fromHandoff(h: PointHandoff | null): WizardValues {
  const v = initialValues(h?.source ?? '');
  if (!h) return v;
  if (h.action === 'export') v.kind = 'dump';
  if (h.at === 'latest') v.pointMode = 'latest';
  else if (OPTIME.test(h.at)) Object.assign(v, { pointMode: 'optime', optime: h.at });
  else if (!Number.isNaN(Date.parse(h.at))) {
    const d = new Date(h.at);
    const p = (n: number) => String(n).padStart(2, '0');
    v.pointMode = 'datetime';
    v.datetime = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  } else Object.assign(v, { pointMode: 'snapshot', snapshot: h.at });
  return v;
}

/**
 * The restore wizard: 1 point, 2 kind, 3 options, 4 review, 5 progress,
 * 6 report. One form holds every step's fields; the plan of the point is
 * asked again whenever the point changes, and every step after the first
 * needs a restorable plan.
 */
export function RestoreWizard({ handoff, onClose }: { handoff: PointHandoff | null; onClose: () => void }) {
  const sources = useSources((s) => s.sources) ?? [];
  const mongodBinary = useSettings((s) => s.settings?.mongodBinary ?? null);
  const localMongod = useRestores((s) => s.localMongod);
  const {
    plan: askPlan,
    nearestRestorable,
    snapshots: askSnapshots,
    namespaces: askNamespaces,
    start,
  } = useRestores.getState();
  // With one source there is nothing to choose: it is preselected.
  const only = sources.length === 1 ? sources[0]!.name : '';
  const form = useForm<WizardValues>({
    mode: 'controlled',
    initialValues: handoff ? fromHandoff(handoff) : initialValues(only),
  });
  const v = form.values;
  const { setFieldValue } = form; // stable (useCallback; no validate rules given)
  const [chosenStep, setActive] = useState(0);
  const focus = useRef<string | null>(handoff?.ns ?? null);
  const [snapshots, setSnapshots] = useState<{ source: string; list: SnapshotView[] } | null>(null);
  const [started, setStarted] = useState<{ taskId: string; command: RestoreStart['command'] } | null>(null);
  const taskId = started?.taskId ?? null;
  const [startError, setStartError] = useState<string | null>(null);
  const task = useTask(taskId);
  // The end of the task opens the last step by itself.
  const active = chosenStep === 4 && task && task.state !== 'running' ? 5 : chosenStep;
  const source = sources.find((s) => s.name === v.source);
  const snapList = useMemo(
    () => (snapshots?.source === v.source ? snapshots.list : []),
    [snapshots, v.source],
  );

  // The throwaway local mongod's state, read when that kind is chosen (is it running, where).
  const wantsLocal = v.kind === 'local-mongod';
  useEffect(() => {
    if (wantsLocal)
      void useRestores
        .getState()
        .loadLocalMongod()
        .catch(() => undefined);
  }, [wantsLocal]);

  // The source's snapshots: the snapshot picker, sizes in the plan, candidates for the nearest points.
  useEffect(() => {
    if (!v.source) return;
    let live = true;
    askSnapshots(v.source).then(
      (list) => live && setSnapshots({ source: v.source, list }),
      () => live && setSnapshots({ source: v.source, list: [] }),
    );
    return () => {
      live = false;
    };
  }, [v.source, askSnapshots]);

  // The plan, live: asked again (after a short pause while typing) whenever the point changes. Kept with
  // the point it answers, so a plan of an earlier point reads as "planning" rather than as this one's.
  const at = plannablePoint(v, snapList);
  const planKey = v.source && at ? `${v.source}|${at}` : null;
  const [answer, setAnswer] = useState<{ key: string; plan: PlanState } | null>(null);
  useEffect(() => {
    if (!planKey || !at) return;
    let live = true;
    const timer = setTimeout(() => {
      askPlan(v.source, at).then(
        (p) => {
          if (!live) return;
          setAnswer({ key: planKey, plan: { state: 'ready', plan: p } });
          if (!p.restorable)
            void nearestRestorable(p, snapList).then(
              (nearest) => live && setAnswer({ key: planKey, plan: { state: 'ready', plan: p, nearest } }),
              () =>
                live &&
                setAnswer({
                  key: planKey,
                  plan: { state: 'ready', plan: p, nearest: { before: null, after: null } },
                }),
            );
        },
        (err: unknown) =>
          live && setAnswer({ key: planKey, plan: { state: 'error', message: errorMessage(err) } }),
      );
    }, PLAN_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [planKey, v.source, at, snapList, askPlan, nearestRestorable]);
  const plan: PlanState = !planKey
    ? { state: 'idle' }
    : answer?.key === planKey
      ? answer.plan
      : { state: 'loading' };

  // The manifest of the snapshot the plan starts from: the namespace tree.
  const planned = plan.state === 'ready' && plan.plan.restorable ? plan.plan : null;
  const snapshotId = planned?.snapshot.id ?? null;
  const [manifestAnswer, setManifestAnswer] = useState<{ key: string; manifest: ManifestState } | null>(null);
  const manifestKey = v.source && snapshotId ? `${v.source}|${snapshotId}` : null;
  useEffect(() => {
    if (!manifestKey || !snapshotId) return;
    let live = true;
    askNamespaces(v.source, snapshotId).then(
      (m) => {
        if (!live) return;
        setManifestAnswer({ key: manifestKey, manifest: { state: 'ready', manifest: m } });
        // A point handed over with a namespace (an incident's collection or database) chooses only that, once.
        if (focus.current) {
          const only = focusedOut(m.namespaces, focus.current);
          focus.current = null;
          if (only) setFieldValue('unchecked', only);
        }
      },
      (err: unknown) =>
        live &&
        setManifestAnswer({ key: manifestKey, manifest: { state: 'error', message: errorMessage(err) } }),
    );
    return () => {
      live = false;
    };
  }, [manifestKey, v.source, snapshotId, askNamespaces, setFieldValue]);
  const manifest: ManifestState =
    manifestAnswer && manifestAnswer.key === manifestKey ? manifestAnswer.manifest : { state: 'loading' };

  const manifestData = manifest.state === 'ready' ? manifest.manifest : null;
  const request = restoreRequest(v, snapList, manifestData);
  const kindReady =
    kindUnavailable(v.kind, source?.imported ?? false, mongodBinary) === null &&
    (v.kind === 'new-target'
      ? v.targetUri.trim() !== ''
      : v.kind === 'dump'
        ? v.dumpPath.trim() !== ''
        : true);
  const canNext = [planned !== null, kindReady, manifest.state !== 'error', false][active] ?? false;
  const point = chosenPoint(v);
  const snap = snapList.find((s) => s.id === v.snapshot);
  const pointLabel =
    v.pointMode === 'datetime' && point
      ? `${localDateTime(point)} (this computer's time)`
      : v.pointMode === 'snapshot' && snap?.consistentTs
        ? `${localDateTime(snap.consistentTs.wall)}, the consistent point of its snapshot`
        : (point ?? '');
  const statement = planned ? reviewStatement(v, planned, manifestData, pointLabel) : [];

  const run = async () => {
    if (!request) return;
    setStartError(null);
    try {
      setStarted({ taskId: await start(request), command: request.command });
      setActive(4);
    } catch (err) {
      setStartError(errorMessage(err));
    }
  };

  const startLabel =
    v.kind === 'in-place'
      ? 'Start the in-place restore'
      : v.kind === 'dump'
        ? 'Start the export'
        : 'Start the restore';
  return (
    <Card withBorder padding="lg" role="region" aria-label="Restore wizard">
      <Stepper
        active={active}
        onStepClick={(k) => taskId === null && k < active && setActive(k)}
        allowNextStepsSelect={false}
        size="sm"
      >
        <Stepper.Step label="Point" description="When to restore">
          <PointStep
            form={form}
            sources={sources}
            snapshots={snapList}
            plan={plan}
            onPick={(ts) => form.setValues({ pointMode: 'optime', optime: ts })}
          />
        </Stepper.Step>
        <Stepper.Step label="Kind" description="Where it goes">
          <KindStep
            form={form}
            imported={source?.imported ?? false}
            mongodBinary={mongodBinary}
            localMongod={localMongod}
          />
        </Stepper.Step>
        <Stepper.Step label="Options" description="What and how">
          <OptionsStep form={form} manifest={manifest} />
        </Stepper.Step>
        <Stepper.Step label="Review" description="What will happen">
          <ReviewStep form={form} statement={statement} />
        </Stepper.Step>
        <Stepper.Step label="Progress" description="Phases and rates">
          {taskId && <ProgressStep taskId={taskId} />}
        </Stepper.Step>
        <Stepper.Step label="Report" description="Validation and RTO">
          {started && active === 5 && <WizardOutcome taskId={started.taskId} command={started.command} />}
        </Stepper.Step>
      </Stepper>
      <ErrorText message={startError} />
      <Group justify="space-between" mt="lg">
        <Button variant="default" onClick={onClose} disabled={task?.state === 'running'}>
          {taskId ? 'Close' : 'Cancel'}
        </Button>
        <Group gap="xs">
          {active > 0 && active < 4 && (
            <Button variant="default" onClick={() => setActive(active - 1)}>
              Back
            </Button>
          )}
          {active < 3 && (
            <Button onClick={() => setActive(active + 1)} disabled={!canNext}>
              Next
            </Button>
          )}
          {active === 3 && (
            <Button
              color={v.kind === 'in-place' ? 'red' : undefined}
              disabled={!request || !confirmed(v) || !planned}
              onClick={() => void run()}
            >
              {startLabel}
            </Button>
          )}
        </Group>
      </Group>
      {active === 3 && !request && (
        <Text size="sm" c="dimmed" mt="xs">
          Something the restore needs is missing: go back and complete it.
        </Text>
      )}
    </Card>
  );
}
