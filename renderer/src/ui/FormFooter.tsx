import { Button, Group } from '@mantine/core';
import { ErrorText } from './ErrorText';

/** The end of every form: submit, cancel, and the engine's refusal when there is one (nothing was saved). */
export function FormFooter({
  submit,
  busy = false,
  onCancel,
  error,
}: {
  submit: string;
  busy?: boolean;
  onCancel: () => void;
  error: string | null;
}) {
  return (
    <>
      <Group gap="xs" mt="md">
        <Button type="submit" disabled={busy}>
          {submit}
        </Button>
        <Button type="button" variant="default" onClick={onCancel}>
          Cancel
        </Button>
      </Group>
      <ErrorText message={error} />
    </>
  );
}
