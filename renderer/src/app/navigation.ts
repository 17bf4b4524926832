/**
 * Which section the window shows; the list of sections in navigation order;
 * and the one hand-off between sections: a point in time one section picked
 * (the timeline, an incident, the browser) that another acts on (the restore
 * wizard, the point-in-time browser, an export). The receiving section reads
 * the hand-off once and clears it, so going back to it later starts fresh.
 */
import { create } from 'zustand';

export const SECTIONS = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'sources', label: 'Sources' },
  { id: 'timeline', label: 'Timeline' },
  { id: 'restores', label: 'Restores' },
  { id: 'browse', label: 'Browse' },
  { id: 'alerts', label: 'Alerts' },
  { id: 'settings', label: 'Settings' },
] as const;
export type SectionId = (typeof SECTIONS)[number]['id'];

/** What the receiving section should do with the point. */
export type PointAction = 'restore' | 'export' | 'browse';

/** A point picked elsewhere: a source name and a restore point as the API takes it (`latest`, ISO second, `t:i`, snapshot id). */
export interface PointHandoff {
  action: PointAction;
  source: string;
  at: string;
  /** Optional namespace to focus (the browser opens it; the wizard preselects it). */
  ns?: string;
}

const SECTION_FOR: Record<PointAction, SectionId> = {
  restore: 'restores',
  export: 'restores',
  browse: 'browse',
};

interface NavigationSlice {
  section: SectionId;
  handoff: PointHandoff | null;
  setSection(id: SectionId): void;
  /** Switches to the section that acts on the point and leaves the point for it. */
  handOff(point: PointHandoff): void;
  /** Returns the waiting hand-off for this action, if any, and clears it. */
  takeHandoff(actions: readonly PointAction[]): PointHandoff | null;
}

export const useNavigation = create<NavigationSlice>((set, get) => ({
  section: 'dashboard',
  handoff: null,
  setSection: (section) => set({ section }),
  handOff: (handoff) => set({ handoff, section: SECTION_FOR[handoff.action] }),
  takeHandoff: (actions) => {
    const h = get().handoff;
    if (!h || !actions.includes(h.action)) return null;
    set({ handoff: null });
    return h;
  },
}));
