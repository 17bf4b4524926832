import { Card, Checkbox, NativeSelect, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { CommandInput } from '../../../../engine/api/contract';
import { errorMessage } from '../../app/connection-store';
import { FormFooter } from '../../ui/FormFooter';
import { useSources, type SourceView } from './sources-store';

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
  onDone: (name: string) => void;
  onCancel: () => void;
}) {
  const add = useSources((s) => s.add);
  const edit = useSources((s) => s.edit);
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
        ? await edit({
            name: existing.name,
            ...(name !== existing.name ? { newName: name } : {}),
            ...(uri !== existing.uri ? { uri } : {}),
            ...common,
          })
        : await add({ name, uri, ...common });
      setPassword('');
      onDone(res.source.name);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      withBorder
      component="form"
      aria-label={existing ? `Edit source ${existing.name}` : 'Add a source'}
      onSubmit={submit}
      maw={860}
    >
      <Title order={3} size="h4" mb="sm">
        {existing ? `Edit ${existing.name}` : 'Add a source'}
      </Title>
      <div className="form-grid">
        <TextInput
          label="Name"
          required
          withAsterisk={false}
          pattern="[\w.\-]+"
          placeholder="prod-rs"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <TextInput
          label="Connection string"
          required
          withAsterisk={false}
          classNames={{ input: 'mono' }}
          placeholder="mongodb://backup@db1:27017,db2:27017/?replicaSet=rs0"
          value={uri}
          onChange={(e) => setUri(e.currentTarget.value)}
        />
        <TextInput
          label="Password"
          type="password"
          autoComplete="new-password"
          placeholder={existing && existing.passwordStorage !== 'none' ? 'unchanged' : 'none'}
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <NativeSelect
          label="Read preference"
          value={readPreference}
          onChange={(e) => setReadPreference(e.currentTarget.value)}
          data={[{ value: '', label: 'default (primary)' }, ...READ_PREFERENCES]}
        />
        {/* File paths on the engine's machine: the engine reads them, the renderer has no file access. */}
        <TextInput
          label="TLS CA file"
          classNames={{ input: 'mono' }}
          placeholder="/etc/ssl/mongo-ca.pem (optional)"
          value={tlsCaFile}
          onChange={(e) => setTlsCaFile(e.currentTarget.value)}
        />
        <TextInput
          label="TLS client certificate"
          classNames={{ input: 'mono' }}
          placeholder="PEM with certificate and key (optional)"
          value={tlsCertFile}
          onChange={(e) => setTlsCertFile(e.currentTarget.value)}
        />
      </div>
      <Checkbox
        mt="sm"
        checked={insecure}
        onChange={(e) => setInsecure(e.currentTarget.checked)}
        label="Store the password unprotected if the repository is not encrypted (not recommended)"
      />
      <FormFooter
        submit={busy ? 'Testing…' : existing ? 'Test and save' : 'Test and add'}
        busy={busy}
        onCancel={onCancel}
        error={error}
      />
    </Card>
  );
}
