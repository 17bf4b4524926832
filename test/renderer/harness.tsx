/** Renders renderer pieces as the app does (Mantine theme, slices wired to a client) and resets between tests. */
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { Providers } from '../../renderer/src/app/Providers';
import { useConnection } from '../../renderer/src/app/connection-store';
import { startLiveUpdates } from '../../renderer/src/app/live-updates';
import { useTasks } from '../../renderer/src/app/tasks-store';
import { useAlerts } from '../../renderer/src/features/alerts/alerts-store';
import { useDashboard } from '../../renderer/src/features/dashboard/dashboard-store';
import { useSettings } from '../../renderer/src/features/settings/settings-store';
import { useSources } from '../../renderer/src/features/sources/sources-store';
import { fakeClient, type FakeClient } from './fake-client';

const SLICES = [useConnection, useTasks, useAlerts, useDashboard, useSettings, useSources] as const;

export const SETTINGS = {
  theme: 'light',
  closeToTray: true,
  desktopNotifications: true,
  showLocalTime: true,
  incidentDocuments: 1000,
  incidentSeconds: 10,
  mongodBinary: null,
  viewCacheMaxBytes: 20 * 1024 ** 3,
  viewMaxAgeDays: 7,
} as const;

/** A client that answers the start-up reads with "nothing there yet"; a test overrides what it is about. */
export function connectedApp(): { client: FakeClient; stop: () => void } {
  for (const slice of SLICES)
    (slice as { setState(s: unknown, replace: true): void }).setState(slice.getInitialState(), true);
  const client = fakeClient();
  client.answer('app.info', {
    name: 'mongo-backup-manager',
    version: '0.1.0',
    mode: 'headless',
    dataDir: '/var/lib/mbm',
    catalogPath: '/var/lib/mbm/catalog.sqlite',
    catalogSchemaVersion: 6,
    engineStartedAt: '2026-11-23T11:22:58.384Z',
    uptimeSeconds: 60,
    platform: 'linux',
    nodeVersion: 'v20.19.0',
  });
  client.answer('settings.get', { ...SETTINGS });
  client.answer('task.list', []);
  client.answer('source.list', []);
  client.answer('alert.list', []);
  const stop = startLiveUpdates(client);
  return { client, stop };
}

export function renderWithProviders(ui: ReactNode) {
  return render(<Providers>{ui}</Providers>);
}
