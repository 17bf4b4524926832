import { useState, type FormEvent } from 'react';
import type { CommandInput } from '../../../engine/api/contract';
import { FormFooter } from './FormFooter';
import { useApp, type SourceView } from '../store';
import type { Probe } from './ProbeReport';

const READ_PREFERENCES = ['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'];

/**
 * Add a source, or change how one is reached. The engine tests the
 * connection before saving anything, so a failure here saves nothing and
 * shows the reason (unreachable, TLS, authentication, not a replica set).
 * The password goes to the engine once and is kept in the OS keychain
 * (desktop) or encrypted with the repository key (headless), never shown again.
 */
export function SourceForm({
  existing,
  onDone,
  onCancel,
}: {
  existing?: SourceView;
  onDone: (name: string, report: Probe) => void;
  onCancel: () => void;
}) {
  const client = useApp((s) => s.client);
  const loadSources = useApp((s) => s.loadSources);
  const [name, setName] = useState(existing?.name ?? '');
  const [uri, setUri] = useState(existing?.uri ?? '');
  const [password, setPassword] = useState('');
  const [tlsCaFile, setTlsCaFile] = useState(existing?.tlsCaFile ?? '');
  const [tlsCertFile, setTlsCertFile] = useState(existing?.tlsCertFile ?? '');
  const [readPreference, setReadPreference] = useState(existing?.readPreference ?? '');
  const [insecure, setInsecure] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!client) return;
    setBusy(true);
    setError(null);
    // Only what was filled in (edit: only what changed) is sent.
    const common = {
      ...(password ? { password } : {}),
      ...(tlsCaFile && tlsCaFile !== existing?.tlsCaFile ? { tlsCaFile } : {}),
      ...(tlsCertFile && tlsCertFile !== existing?.tlsCertFile ? { tlsCertFile } : {}),
      ...(readPreference && readPreference !== existing?.readPreference
        ? { readPreference: readPreference as CommandInput<'source.add'>['readPreference'] }
        : {}),
      ...(insecure ? { insecureStorePassword: true } : {}),
    };
    try {
      const res = existing
        ? await client.invoke('source.edit', {
            name: existing.name,
            ...(name !== existing.name ? { newName: name } : {}),
            ...(uri !== existing.uri ? { uri } : {}),
            ...common,
          })
        : await client.invoke('source.add', { name, uri, ...common });
      setPassword('');
      await loadSources();
      onDone(res.source.name, res.test);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  /** A file path on the engine's machine (the engine reads it; the renderer has no file access). */
  const pathField = (id: string, label: string, hint: string, value: string, set: (v: string) => void) => (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className="mono"
        placeholder={hint}
        value={value}
        onChange={(e) => set(e.target.value)}
      />
    </>
  );

  return (
    <form
      className="card"
      aria-label={existing ? `Edit source ${existing.name}` : 'Add a source'}
      onSubmit={submit}
    >
      <h3>{existing ? `Edit ${existing.name}` : 'Add a source'}</h3>
      <div className="form-grid">
        <label htmlFor="src-name">Name</label>
        <input
          id="src-name"
          required
          pattern="[\w.\-]+"
          placeholder="prod-rs"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <label htmlFor="src-uri">Connection string</label>
        <input
          id="src-uri"
          required
          className="mono"
          placeholder="mongodb://backup@db1:27017,db2:27017/?replicaSet=rs0"
          value={uri}
          onChange={(e) => setUri(e.target.value)}
        />
        <label htmlFor="src-password">Password</label>
        <input
          id="src-password"
          type="password"
          autoComplete="new-password"
          placeholder={existing && existing.passwordStorage !== 'none' ? 'unchanged' : 'none'}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {pathField('src-ca', 'TLS CA file', '/etc/ssl/mongo-ca.pem (optional)', tlsCaFile, setTlsCaFile)}
        {pathField(
          'src-cert',
          'TLS client certificate',
          'PEM with certificate and key (optional)',
          tlsCertFile,
          setTlsCertFile,
        )}
        <label htmlFor="src-rp">Read preference</label>
        <select id="src-rp" value={readPreference} onChange={(e) => setReadPreference(e.target.value)}>
          <option value="">default (primary)</option>
          {READ_PREFERENCES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <label className="inline full">
          <input type="checkbox" checked={insecure} onChange={(e) => setInsecure(e.target.checked)} />
          Store the password unprotected if the repository is not encrypted (not recommended)
        </label>
      </div>
      <FormFooter
        submit={busy ? 'Testing…' : existing ? 'Test and save' : 'Test and add'}
        busy={busy}
        onCancel={onCancel}
        error={error}
      />
    </form>
  );
}
