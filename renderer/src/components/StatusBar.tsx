import { useApp } from '../store';

const LABEL = {
  connecting: 'Connecting to engine…',
  connected: 'Engine connected',
  disconnected: 'Engine disconnected — retrying',
};

export function StatusBar() {
  const connection = useApp((s) => s.connection);
  const info = useApp((s) => s.info);
  const lastError = useApp((s) => s.lastError);
  return (
    <footer className="status-bar" role="status" aria-live="polite">
      <span className={`dot dot-${connection}`} aria-hidden="true" />
      <span data-testid="connection-state" data-state={connection}>
        {LABEL[connection]}
      </span>
      {info && (
        <span className="status-meta">
          v{info.version} · {info.mode} · catalog schema {info.catalogSchemaVersion}
        </span>
      )}
      {lastError && <span className="status-error">{lastError}</span>}
    </footer>
  );
}
