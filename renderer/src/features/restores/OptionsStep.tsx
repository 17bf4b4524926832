import {
  ActionIcon,
  Button,
  Checkbox,
  Group,
  Loader,
  NumberInput,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import { ErrorText } from '../../ui/ErrorText';
import { NamespaceTree } from './NamespaceTree';
import type { SnapshotNamespaces } from './restores-store';
import type { WizardValues } from './wizard-values';

export type ManifestState =
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | { state: 'ready'; manifest: SnapshotNamespaces };

/** Why users and roles cannot be chosen (null: they can): the snapshot has none, or the kind takes none. */
function usersRolesUnavailable(
  manifest: SnapshotNamespaces | null,
  kind: WizardValues['kind'],
): string | null {
  if (manifest && manifest.users === null && manifest.roles === null)
    return 'This snapshot holds no users or roles (take snapshots with users and roles to restore them).';
  if (kind === 'in-place') return 'An in-place restore leaves the users and roles of the source as they are.';
  return null;
}

/** Step 3: which namespaces (a tree with counts), renames, and how the restore behaves. */
export function OptionsStep({
  form,
  manifest,
}: {
  form: UseFormReturnType<WizardValues>;
  manifest: ManifestState;
}) {
  const v = form.getValues();
  const renames = v.kind !== 'in-place'; // an in-place restore puts namespaces back where they were
  const why = usersRolesUnavailable(manifest.state === 'ready' ? manifest.manifest : null, v.kind);
  const target = v.kind === 'new-target' || v.kind === 'local-mongod';
  return (
    <Stack gap="md">
      <div>
        <Title order={3} size="h5" mb={4}>
          Namespaces
        </Title>
        {manifest.state === 'loading' && (
          <Group gap="xs">
            <Loader size="xs" />
            <Text size="sm">Reading the snapshot&apos;s manifest…</Text>
          </Group>
        )}
        {manifest.state === 'error' && <ErrorText message={manifest.message} />}
        {manifest.state === 'ready' && (
          <NamespaceTree
            namespaces={manifest.manifest.namespaces}
            unchecked={v.unchecked}
            onChange={(unchecked) => form.setFieldValue('unchecked', unchecked)}
          />
        )}
      </div>
      {renames && (
        <div>
          <Title order={3} size="h5" mb={4}>
            Renames
          </Title>
          <Text size="xs" c="dimmed" mb={6}>
            As mongorestore --nsFrom/--nsTo: <span className="mono">shop.*</span> to{' '}
            <span className="mono">shop_staging.*</span> (or <span className="mono">shop.$coll$</span> to{' '}
            <span className="mono">shop_staging.$coll$</span>) moves every collection of shop: each{' '}
            <span className="mono">*</span> of the new name takes what the <span className="mono">*</span> at
            its place matched.
          </Text>
          <Stack gap={6}>
            {v.renames.map((_, k) => (
              <Group key={k} gap="xs" wrap="nowrap">
                <TextInput
                  aria-label={`Rename ${k + 1} from`}
                  placeholder="shop.$coll$"
                  classNames={{ input: 'mono' }}
                  {...form.getInputProps(`renames.${k}.from`)}
                />
                <Text size="sm">to</Text>
                <TextInput
                  aria-label={`Rename ${k + 1} to`}
                  placeholder="shop_staging.$coll$"
                  classNames={{ input: 'mono' }}
                  {...form.getInputProps(`renames.${k}.to`)}
                />
                <ActionIcon
                  variant="subtle"
                  color="red"
                  aria-label={`Remove rename ${k + 1}`}
                  onClick={() => form.removeListItem('renames', k)}
                >
                  ×
                </ActionIcon>
              </Group>
            ))}
            <Button
              variant="default"
              size="xs"
              w="fit-content"
              onClick={() => form.insertListItem('renames', { from: '', to: '' })}
            >
              Add a rename
            </Button>
          </Stack>
        </div>
      )}
      <div>
        <Title order={3} size="h5" mb={6}>
          Behaviour
        </Title>
        <Stack gap="xs">
          {target && (
            <Checkbox
              label="Drop target collections that exist first"
              description="Otherwise a target collection that holds documents makes the restore refuse, listing them."
              {...form.getInputProps('drop', { type: 'checkbox' })}
            />
          )}
          {v.kind !== 'dump' && (
            <>
              <Checkbox
                label="Strict: stop at the first per-document failure"
                description="Otherwise duplicate keys and validation errors are counted and reported with examples."
                {...form.getInputProps('strict', { type: 'checkbox' })}
              />
              <NumberInput
                label="Collections copied at once"
                min={1}
                max={16}
                maw={220}
                {...form.getInputProps('parallel')}
              />
            </>
          )}
          {target && (
            <Select
              label="Write concern"
              maw={320}
              allowDeselect={false}
              data={[
                { value: 'default', label: "The target's default" },
                { value: 'majority', label: 'majority' },
                { value: '1', label: 'w: 1' },
                { value: '0', label: 'w: 0 (unacknowledged)' },
              ]}
              {...form.getInputProps('writeConcern')}
            />
          )}
          {v.kind !== 'dump' && (
            <Text size="sm">
              Indexes: built after the documents are copied and before the oplog is replayed (index builds in
              the oplog are replayed too).
            </Text>
          )}
          {v.kind === 'dump' ? (
            <Text size="sm">
              Users and roles: written as admin/system.users.bson and system.roles.bson when the snapshot
              holds them.
            </Text>
          ) : (
            <Checkbox
              label="Users and roles"
              disabled={why !== null}
              description={
                why ??
                "Those of the restored databases, as they were at the point, renamed with them (mongorestore's way); with drop they replace the target's."
              }
              {...form.getInputProps('usersRoles', { type: 'checkbox' })}
              checked={why === null && v.usersRoles}
            />
          )}
        </Stack>
      </div>
    </Stack>
  );
}
