import { useEffect } from 'react';
import { ErrorBoundary } from './components/ErrorBoundary';
import { Nav } from './components/Nav';
import { Alerts } from './sections/Alerts';
import { StatusBar } from './components/StatusBar';
import { Dashboard } from './sections/Dashboard';
import { Restores } from './sections/Restores';
import { SettingsSection } from './sections/SettingsSection';
import { Sources } from './sections/Sources';
import { Timeline } from './sections/Timeline';
import { useApp, type SectionId } from './store';

const PANELS: Record<SectionId, () => React.JSX.Element> = {
  dashboard: Dashboard,
  sources: Sources,
  timeline: Timeline,
  restores: Restores,
  alerts: Alerts,
  settings: SettingsSection,
};

/** Applies the theme setting; "system" follows prefers-color-scheme live. */
function useTheme(theme: 'system' | 'light' | 'dark' | undefined) {
  useEffect(() => {
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => {
      const effective = !theme || theme === 'system' ? (media.matches ? 'dark' : 'light') : theme;
      document.documentElement.dataset.theme = effective;
    };
    apply();
    media.addEventListener('change', apply);
    return () => media.removeEventListener('change', apply);
  }, [theme]);
}

export function App() {
  const section = useApp((s) => s.section);
  const theme = useApp((s) => s.settings?.theme);
  useTheme(theme);
  const Panel = PANELS[section];
  return (
    <div className="app">
      <header className="app-header">
        <h1>Mongo Backup Manager</h1>
      </header>
      <Nav />
      <main
        className="panel"
        role="tabpanel"
        id={`panel-${section}`}
        aria-labelledby={`tab-${section}`}
        tabIndex={0}
      >
        <ErrorBoundary key={section}>
          <Panel />
        </ErrorBoundary>
      </main>
      <StatusBar />
    </div>
  );
}
