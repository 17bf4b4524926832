import { useEffect, useState } from 'react';
import { useApp } from '../store';

/** Registered backup repositories; encrypted ones can be unlocked here (the desktop app remembers it in the keychain). */
export function RepositoriesCard() {
  const repositories = useApp((s) => s.repositories);
  const load = useApp((s) => s.loadRepositories);
  const unlock = useApp((s) => s.unlockRepository);
  const [passphrase, setPassphrase] = useState<Record<string, string>>({});
  const [error, setError] = useState<Record<string, string>>({});

  useEffect(() => {
    void load();
  }, [load]);

  if (repositories.length === 0) {
    return (
      <section className="card" aria-label="Backup repositories">
        <h3>Backup repositories</h3>
        <p className="hint">
          None yet. Create one with <code>npm run --silent cli -- repo init --path DIR</code> (add{' '}
          <code>--encrypt --passphrase-env VAR</code> to encrypt it).
        </p>
      </section>
    );
  }
  return (
    <section className="card" aria-label="Backup repositories">
      <h3>Backup repositories</h3>
      <ul className="repo-list">
        {repositories.map((r) => (
          <li key={r.id} data-testid="repository">
            <div className="mono">{r.path}</div>
            <div className="hint">
              {r.compression} ·{' '}
              {r.encrypted ? (r.unlocked ? 'encrypted, unlocked' : 'encrypted, locked') : 'not encrypted'} ·{' '}
              {r.sources.length} source(s)
            </div>
            {r.encrypted && !r.unlocked && (
              <form
                className="unlock"
                onSubmit={(e) => {
                  e.preventDefault();
                  void unlock(r.id, passphrase[r.id] ?? '').then((err) => {
                    setError((m) => ({ ...m, [r.id]: err ?? '' }));
                    if (!err) setPassphrase((m) => ({ ...m, [r.id]: '' }));
                  });
                }}
              >
                <label>
                  Passphrase
                  <input
                    type="password"
                    autoComplete="current-password"
                    value={passphrase[r.id] ?? ''}
                    onChange={(e) => setPassphrase((m) => ({ ...m, [r.id]: e.target.value }))}
                  />
                </label>
                <button type="submit">Unlock</button>
                {error[r.id] && (
                  <span role="alert" className="status-error">
                    {error[r.id]}
                  </span>
                )}
              </form>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
