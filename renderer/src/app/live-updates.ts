/**
 * Keeps the slices current. What has an event is updated by that event;
 * what has none is polled, once per pass over the source list.
 */
import type { ApiClient } from '../../../engine/api/client';
import { useAlerts } from '../features/alerts/alerts-store';
import { useDashboard } from '../features/dashboard/dashboard-store';
import { useSettings } from '../features/settings/settings-store';
import { useSources } from '../features/sources/sources-store';
import { useIncidents } from '../features/incidents/incidents-store';
import { useTimeline } from '../features/timeline/timeline-store';
import { useConnection } from './connection-store';
import { useTasks } from './tasks-store';

/**
 * Why a poll remains: `source.status` (recovery point, capture state,
 * coverage) changes every second and has no event; sources added or removed
 * through another door (the CLI) and alerts that resolve themselves when
 * their condition clears have no event either. One timer does one pass:
 * the source list, then every source's status at once, then the alerts.
 */
export const POLL_MS = 3000;

/** Everything the window shows, read again (on connect and on each poll). */
export async function refreshSourcesAndAlerts(): Promise<void> {
  await useSources.getState().load();
  const names = (useSources.getState().sources ?? []).map((s) => s.name);
  await Promise.all([
    useDashboard.getState().loadStatuses(names),
    useDashboard.getState().loadOverviews(names), // at most once a minute per source (OVERVIEW_MAX_AGE_MS)
    useAlerts.getState().load(),
  ]);
}

export function startLiveUpdates(client: ApiClient): () => void {
  const conn = useConnection.getState();
  conn.setClient(client);
  const stops = [
    client.onConnectionChange((state) => {
      useConnection.getState().setConnection(state);
      if (state !== 'connected') return;
      // After a (re)connection nothing seen before can be trusted: read it all once.
      void useConnection.getState().loadInfo();
      void useSettings.getState().load();
      void useTasks.getState().load();
      void refreshSourcesAndAlerts();
    }),
    client.on('settings.changed', (settings) => useSettings.getState().changed(settings)),
    client.on('task.progress', (e) => useTasks.getState().onProgress(e)),
    client.on('task.finished', (e) => {
      useTasks.getState().onFinished(e);
      useDashboard.getState().expireOverviews(); // storage, coverage and the next run moved
      // A finished snapshot changes the last snapshot, coverage and next runs; a failed one raises an alert.
      void refreshSourcesAndAlerts();
      void useSources.getState().reloadJobs();
      // A restore that ended is in the history: the timeline marks in-place ones and learns the rate.
      if (e.kind.startsWith('restore') && useTimeline.getState().restores !== null)
        void useTimeline.getState().loadRestores();
    }),
    client.on('incident.found', (e) => {
      if (useIncidents.getState().source === e.source) void useIncidents.getState().reload();
    }),
    // A durable segment moved a source's live edge: the timeline draws it and reads that end again.
    client.on('capture.segment', (e) => useTimeline.getState().onSegment(e.source, e.lastTs.t)),
    client.on('alert.raised', () => {
      void refreshSourcesAndAlerts();
      void useSources.getState().reloadJobs(); // a job can turn Misconfigured with its alert
    }),
  ];
  const timer = setInterval(() => {
    if (useConnection.getState().connection === 'connected') void refreshSourcesAndAlerts();
  }, POLL_MS);
  return () => {
    clearInterval(timer);
    for (const stop of stops) stop();
  };
}
