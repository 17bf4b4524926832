import { Button, Group, TextInput, type TextInputProps } from '@mantine/core';
import { canPickPaths, pickPath, type PathPickKind } from '../app/client/path-picker';

/**
 * A path on this machine: typed, or (desktop) chosen in the system's dialog
 * with "Browse…", which fills the same field.
 */
export function PathInput({
  kind,
  onPick,
  ...props
}: TextInputProps & { kind: PathPickKind; onPick: (path: string) => void }) {
  const input = <TextInput classNames={{ input: 'mono' }} {...props} style={{ flex: 1 }} />;
  if (!canPickPaths()) return input;
  return (
    <Group gap="xs" align="flex-end" wrap="nowrap">
      {input}
      <Button
        variant="default"
        onClick={() =>
          void pickPath(kind, String(props.label ?? 'Choose')).then((p) => {
            if (p) onPick(p);
          })
        }
      >
        Browse…
      </Button>
    </Group>
  );
}
