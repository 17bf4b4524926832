import { Checkbox, PasswordInput, Radio, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import { PathInput } from '../../ui/PathInput';
import type { LocalMongod } from './restores-store';
import type { RestoreKind, WizardValues } from './wizard-values';

/** Why a kind cannot be chosen for this source (null: it can). */
export function kindUnavailable(
  kind: RestoreKind,
  imported: boolean,
  mongodBinary: string | null,
): string | null {
  if (kind === 'local-mongod' && !mongodBinary)
    return 'Set the path of a mongod binary first (Settings, "Throwaway local mongod"): the app starts its own mongod from it.';
  if (kind === 'in-place' && imported)
    return 'An imported source has no deployment to restore into: restore it into a new target instead.';
  return null;
}

const KINDS: { value: RestoreKind; label: string; description: string }[] = [
  {
    value: 'new-target',
    label: 'Into a new target (recommended)',
    description: 'Any MongoDB deployment you can reach; the source is not touched.',
  },
  {
    value: 'local-mongod',
    label: 'Into a throwaway local mongod',
    description: 'The app starts a mongod of its own from the binary set in Settings.',
  },
  {
    value: 'in-place',
    label: 'In place, into the source itself',
    description:
      'Destructive: capture pauses, the chosen namespaces are dropped and restored, capture resumes.',
  },
  {
    value: 'dump',
    label: 'Download as a dump',
    description: 'mongodump output (a directory or an archive) that mongorestore restores anywhere.',
  },
];

/** Step 2: where the point goes, and what that kind needs (a connection string, a path). */
export function KindStep({
  form,
  imported,
  mongodBinary,
  localMongod,
}: {
  form: UseFormReturnType<WizardValues>;
  imported: boolean;
  mongodBinary: string | null;
  localMongod: LocalMongod | null;
}) {
  const v = form.getValues();
  return (
    <Stack gap="md">
      <Radio.Group label="Kind of restore" {...form.getInputProps('kind')}>
        <Stack gap="xs" mt={4}>
          {KINDS.map((k) => {
            const why = kindUnavailable(k.value, imported, mongodBinary);
            return (
              <Radio
                key={k.value}
                value={k.value}
                label={k.label}
                disabled={why !== null}
                description={why ?? k.description}
              />
            );
          })}
        </Stack>
      </Radio.Group>
      {v.kind === 'new-target' && (
        <>
          <TextInput
            label="Target connection string"
            description="mongodb:// or mongodb+srv://; the restore refuses collections that already hold data unless you choose to drop them."
            placeholder="mongodb://restore-test:27017/?replicaSet=rs1"
            classNames={{ input: 'mono' }}
            {...form.getInputProps('targetUri')}
          />
          <PasswordInput
            label="Target password (optional)"
            description="Used for this restore only, never stored."
            maw={360}
            {...form.getInputProps('password')}
          />
        </>
      )}
      {v.kind === 'local-mongod' && (
        <Text size="sm" data-testid="local-mongod">
          {localMongod?.state === 'running' && localMongod.uri ? (
            <>
              Running at <span className="mono">{localMongod.uri}</span>
              {localMongod.version && ` (mongod ${localMongod.version})`}; the restore goes there.
            </>
          ) : (
            <>
              Started when the restore begins, from <span className="mono">{mongodBinary}</span> (127.0.0.1
              only, a port it picks, data under the app&apos;s data directory); stop it in Settings when you
              are done.
            </>
          )}
          {localMongod?.lastError && (
            <Text span c="red" size="sm">
              {' '}
              Last time: {localMongod.lastError}
            </Text>
          )}
        </Text>
      )}
      {v.kind === 'in-place' && (
        <Text size="sm" c="red">
          The source&apos;s own data is replaced. You confirm by typing its name on the review step.
        </Text>
      )}
      {v.kind === 'dump' && (
        <>
          <SegmentedControl
            aria-label="Dump format"
            data={[
              { value: 'directory', label: 'Directory' },
              { value: 'archive', label: 'Archive file' },
            ]}
            maw={320}
            {...form.getInputProps('dumpFormat')}
          />
          <PathInput
            kind={v.dumpFormat === 'directory' ? 'directory' : 'save'}
            label={v.dumpFormat === 'directory' ? 'Directory to create' : 'Archive file to create'}
            description="On the machine the engine runs on; it must not exist yet (an empty directory is fine)."
            placeholder={
              v.dumpFormat === 'directory' ? '/backups/dumps/prod-rs' : '/backups/dumps/prod-rs.archive'
            }
            {...form.getInputProps('dumpPath')}
            onPick={(p) => form.setFieldValue('dumpPath', p)}
          />
          <Checkbox
            label="gzip (as mongodump --gzip)"
            {...form.getInputProps('gzip', { type: 'checkbox' })}
          />
        </>
      )}
    </Stack>
  );
}
