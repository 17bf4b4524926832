import { Alert } from '@mantine/core';

/** An error the user must read: announced by screen readers (role=alert), shown only when there is one. */
export function ErrorText({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <Alert role="alert" color="red" variant="light" py="xs" mt="xs">
      {message}
    </Alert>
  );
}
