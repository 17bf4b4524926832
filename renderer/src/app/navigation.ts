/** Which section the window shows; the list of sections in navigation order. */
import { create } from 'zustand';

export const SECTIONS = [
  { id: 'dashboard', label: 'Dashboard' },
  { id: 'sources', label: 'Sources' },
  { id: 'timeline', label: 'Timeline' },
  { id: 'restores', label: 'Restores' },
  { id: 'alerts', label: 'Alerts' },
  { id: 'settings', label: 'Settings' },
] as const;
export type SectionId = (typeof SECTIONS)[number]['id'];

export const useNavigation = create<{ section: SectionId; setSection(id: SectionId): void }>((set) => ({
  section: 'dashboard',
  setSection: (section) => set({ section }),
}));
