/**
 * Sources and their backup jobs (Sources section; the Dashboard reads the
 * list too). Every call to the engine about a source goes through here.
 */
import { create } from 'zustand';
import type { CommandInput, CommandOutput } from '../../../../engine/api/contract';
import { engine, errorMessage } from '../../app/connection-store';
import { useTasks } from '../../app/tasks-store';

export type SourceView = CommandOutput<'source.list'>[number];
export type ProbeReportView = CommandOutput<'source.test'>;
export type BackupJob = CommandOutput<'backup-job.get'>;
export type TerminateResult = CommandOutput<'backup-job.terminate'>;
export type PolicyDefaults = CommandOutput<'backup-job.defaults'>;
export type PolicyPreview = CommandOutput<'policy.preview'>;
type Saved = CommandOutput<'source.add'>;

interface SourcesSlice {
  /** null until the first answer. */
  sources: SourceView[] | null;
  error: string | null;
  /** The last connection test of each source, by name, while the window is open. */
  probeReports: Record<string, ProbeReportView>;
  /** Backup jobs by source name. */
  jobs: Record<string, BackupJob>;
  jobErrors: Record<string, string>;
  /** The last snapshot task started from this window, by source name (progress: tasks slice). */
  snapshotTasks: Record<string, string>;
  /** The engine's default policy and presets: what a switched-on tier starts from. */
  defaults: PolicyDefaults | null;
  defaultsError: string | null;
  /** The policy editor's preview by source name: the last answer for the policy as edited, or why not. */
  previews: Record<string, { preview: PolicyPreview | null; error: string | null; pending: boolean }>;

  load(): Promise<void>;
  add(input: CommandInput<'source.add'>): Promise<Saved>;
  edit(input: CommandInput<'source.edit'>): Promise<Saved>;
  test(name: string): Promise<ProbeReportView>;
  remove(name: string): Promise<void>;
  setProbeReport(source: string, report: ProbeReportView): void;

  loadJob(source: string): Promise<void>;
  loadDefaults(): Promise<void>;
  /** Reads again the jobs already shown (after a task ends or an alert: state and next runs move). */
  reloadJobs(): Promise<void>;
  stopJob(source: string): Promise<BackupJob>;
  startJob(source: string): Promise<BackupJob>;
  setPolicy(source: string, change: Omit<CommandInput<'backup-job.set'>, 'source'>): Promise<BackupJob>;
  terminate(source: string, deleteBackups: boolean): Promise<TerminateResult>;
  /** Starts a snapshot task; resolves with its id once the engine accepted it. */
  takeSnapshot(source: string): Promise<string>;
  /** Asks what the policy would keep a month from now; an answer to an older request is dropped. */
  previewPolicy(source: string, policy: BackupJob['policy']): Promise<void>;
}

/** The newest preview request per source: answers to older ones (the DBA kept typing) are dropped. */
const previewRequests = new Map<string, number>();

export const useSources = create<SourcesSlice>((set, get) => {
  const keepJob = (job: BackupJob) => {
    set((s) => ({ jobs: { ...s.jobs, [job.source]: job } }));
    return job;
  };
  return {
    sources: null,
    error: null,
    probeReports: {},
    jobs: {},
    jobErrors: {},
    snapshotTasks: {},
    defaults: null,
    defaultsError: null,
    previews: {},

    async load() {
      try {
        set({ sources: await engine().invoke('source.list', {}), error: null });
      } catch (err) {
        set({ error: errorMessage(err) });
      }
    },
    async add(input) {
      const saved = await engine().invoke('source.add', input);
      get().setProbeReport(saved.source.name, saved.test);
      await get().load();
      return saved;
    },
    async edit(input) {
      const saved = await engine().invoke('source.edit', input);
      get().setProbeReport(saved.source.name, saved.test);
      await get().load();
      // A fixed connection can reactivate a Misconfigured job.
      void get().loadJob(saved.source.name);
      return saved;
    },
    async test(name) {
      const report = await engine().invoke('source.test', { name });
      get().setProbeReport(name, report);
      return report;
    },
    async remove(name) {
      await engine().invoke('source.remove', { name, confirm: true });
      await get().load();
    },
    setProbeReport(source, report) {
      set((s) => ({ probeReports: { ...s.probeReports, [source]: report } }));
    },

    async loadJob(source) {
      try {
        keepJob(await engine().invoke('backup-job.get', { source }));
        set((s) => {
          const { [source]: _gone, ...jobErrors } = s.jobErrors;
          return { jobErrors };
        });
      } catch (err) {
        set((s) => ({ jobErrors: { ...s.jobErrors, [source]: errorMessage(err) } }));
      }
    },
    async loadDefaults() {
      if (get().defaults) return; // the engine's defaults do not change while it runs
      try {
        set({ defaults: await engine().invoke('backup-job.defaults', {}), defaultsError: null });
      } catch (err) {
        set({ defaultsError: errorMessage(err) });
      }
    },
    async reloadJobs() {
      await Promise.all(Object.keys(get().jobs).map((source) => get().loadJob(source)));
    },
    stopJob: async (source) => keepJob(await engine().invoke('backup-job.stop', { source })),
    startJob: async (source) => keepJob(await engine().invoke('backup-job.start', { source })),
    setPolicy: async (source, change) =>
      keepJob(await engine().invoke('backup-job.set', { source, ...change })),
    async terminate(source, deleteBackups) {
      const result = await engine().invoke('backup-job.terminate', { source, confirm: true, deleteBackups });
      keepJob(result.job);
      return result;
    },
    async previewPolicy(source, policy) {
      const request = (previewRequests.get(source) ?? 0) + 1;
      previewRequests.set(source, request);
      const put = (v: Partial<SourcesSlice['previews'][string]>) =>
        set((s) => ({
          previews: {
            ...s.previews,
            [source]: { preview: null, error: null, pending: false, ...s.previews[source], ...v },
          },
        }));
      put({ pending: true });
      try {
        const preview = await engine().invoke('policy.preview', { source, policy });
        if (previewRequests.get(source) === request) put({ preview, error: null, pending: false });
      } catch (err) {
        if (previewRequests.get(source) === request) put({ error: errorMessage(err), pending: false });
      }
    },
    async takeSnapshot(source) {
      const { taskId } = await engine().invoke('snapshot.take', { source });
      useTasks.getState().started(taskId, 'snapshot');
      set((s) => ({ snapshotTasks: { ...s.snapshotTasks, [source]: taskId } }));
      return taskId;
    },
  };
});
