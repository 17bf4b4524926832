/**
 * Shared value schemas used by more than one command or event. Keep command
 * definitions in contract.ts; keep reusable shapes here so nothing is
 * declared twice.
 */
import { z } from 'zod';

export const Theme = z.enum(['system', 'light', 'dark']);

/** User settings. Every field is required here; defaults live in SETTINGS_DEFAULTS, once. */
export const Settings = z.strictObject({
  theme: Theme.describe('Colour theme of the desktop and web UI.'),
  closeToTray: z.boolean().describe('Closing the desktop window keeps capture running in the tray.'),
  desktopNotifications: z.boolean().describe('Show alerts as desktop notifications (desktop app only).'),
  showLocalTime: z.boolean().describe('Show local time next to UTC in timelines and schedules.'),
});
export type Settings = z.infer<typeof Settings>;

export const SETTINGS_DEFAULTS: Settings = {
  theme: 'system',
  closeToTray: true,
  desktopNotifications: true,
  showLocalTime: true,
};

/**
 * A change to some settings. Built from the fields without defaults, so a
 * missing field means "leave as is", never "reset to the default".
 */
export const SettingsChange = Settings.partial().refine((v) => Object.keys(v).length > 0, {
  message: 'Give at least one setting to change.',
});

export const RunMode = z.enum(['desktop', 'headless', 'cli']);

export const AppInfo = z.strictObject({
  name: z.string(),
  version: z.string(),
  mode: RunMode,
  dataDir: z.string(),
  catalogPath: z.string(),
  catalogSchemaVersion: z.number().int(),
  engineStartedAt: z.iso.datetime(),
  uptimeSeconds: z.number(),
  platform: z.string(),
  nodeVersion: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const JobState = z.enum(['running', 'succeeded', 'failed', 'cancelled']);

export const JobProgress = z.strictObject({
  done: z.number(),
  total: z.number().nullable(),
  unit: z.string(),
  message: z.string(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const ErrorShape = z.strictObject({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});

export const Job = z.strictObject({
  jobId: z.string(),
  kind: z.string(),
  state: JobState,
  progress: JobProgress,
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  error: ErrorShape.nullable(),
  result: z.unknown().optional(),
});
export type Job = z.infer<typeof Job>;

export const JobRef = z.strictObject({ jobId: z.string().min(1) });
