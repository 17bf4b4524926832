import { Alert, Code } from '@mantine/core';
import type { TypedError } from './browse-store';

/** An engine refusal with its code (VIEW_OUT_OF_WINDOW, QUERY_SYNTAX…), so the user knows which kind it is. */
export function EngineError({ error }: { error: TypedError | null }) {
  if (!error) return null;
  return (
    <Alert role="alert" color="red" variant="light" py="xs" mt="xs">
      {error.code && <Code mr="xs">{error.code}</Code>}
      {error.message}
    </Alert>
  );
}
