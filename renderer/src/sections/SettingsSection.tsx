import { RepositoriesCard } from '../components/RepositoriesCard';
import { useApp } from '../store';

export function SettingsSection() {
  const settings = useApp((s) => s.settings);
  const change = useApp((s) => s.changeSettings);
  const info = useApp((s) => s.info);
  if (!settings) return <p>Loading settings…</p>;
  return (
    <>
      <h2>Settings</h2>
      <p className="lead">Preferences for this workstation, stored in the local catalog.</p>
      <form className="settings" onSubmit={(e) => e.preventDefault()}>
        <label>
          Theme
          <select
            name="theme"
            value={settings.theme}
            onChange={(e) => void change({ theme: e.target.value as typeof settings.theme })}
          >
            <option value="system">Follow the system</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            name="closeToTray"
            checked={settings.closeToTray}
            onChange={(e) => void change({ closeToTray: e.target.checked })}
          />
          Keep capturing in the tray when the window is closed (desktop)
        </label>
        <label className="check">
          <input
            type="checkbox"
            name="desktopNotifications"
            checked={settings.desktopNotifications}
            onChange={(e) => void change({ desktopNotifications: e.target.checked })}
          />
          Show alerts as desktop notifications (desktop)
        </label>
        <label className="check">
          <input
            type="checkbox"
            name="showLocalTime"
            checked={settings.showLocalTime}
            onChange={(e) => void change({ showLocalTime: e.target.checked })}
          />
          Show local time next to UTC
        </label>
      </form>
      <RepositoriesCard />
      {info && (
        <p className="hint">
          Data directory: <span className="mono">{info.dataDir}</span>
        </p>
      )}
    </>
  );
}
